// Plain-text tables for people; scripts use --json.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace tgw::ctl {

class Table {
public:
    // A column title; numbers (right = true) are right-aligned.
    void column(std::string title, bool right = false);
    void row(std::vector<std::string> cells);
    // Columns sized to their widest cell, two spaces apart, no trailing blanks.
    void print(FILE* f) const;

private:
    std::vector<std::string> titles_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

// "key: value" lines, keys padded to the longest one.
void print_pairs(FILE* f, const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace tgw::ctl
