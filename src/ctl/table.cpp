#include "ctl/table.hpp"

#include <algorithm>

namespace tgw::ctl {

void Table::column(std::string title, bool right) {
    titles_.push_back(std::move(title));
    right_.push_back(right);
}

void Table::row(std::vector<std::string> cells) {
    cells.resize(titles_.size());
    rows_.push_back(std::move(cells));
}

void Table::print(FILE* f) const {
    std::vector<size_t> w(titles_.size());
    for (size_t c = 0; c < titles_.size(); c++) {
        w[c] = titles_[c].size();
        for (const auto& r : rows_) w[c] = std::max(w[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t c = 0; c < cells.size(); c++) {
            std::string pad(w[c] - cells[c].size(), ' ');
            if (c) s += "  ";
            s += right_[c] ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : "");
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        fprintf(f, "%s\n", s.c_str());
    };
    line(titles_);
    for (const auto& r : rows_) line(r);
}

void print_pairs(FILE* f, const std::vector<std::pair<std::string, std::string>>& pairs) {
    size_t w = 0;
    for (const auto& [k, v] : pairs) w = std::max(w, k.size());
    for (const auto& [k, v] : pairs)
        fprintf(f, "%s:%s %s\n", k.c_str(), std::string(w - k.size(), ' ').c_str(), v.c_str());
}

}  // namespace tgw::ctl
