// Every shipped configuration, and the snippets in the reference, must load cleanly: they are
// what people copy.
// The source tree is found through TGW_SOURCE_DIR (set by the meson test() environment).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/model.hpp"

namespace tgw::config {
namespace {

namespace fs = std::filesystem;

TEST(Examples, EveryShippedConfigLoads) {
    const char* root = std::getenv("TGW_SOURCE_DIR");
    if (!root || !*root) GTEST_SKIP() << "TGW_SOURCE_DIR is not set";
    std::vector<fs::path> files;
    for (const char* dir : {"conf", "conf/examples"}) {
        fs::path d = fs::path(root) / dir;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(d, ec)) {
            auto ext = e.path().extension();
            if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty()) << "no YAML files under " << root << "/conf";
    for (const auto& f : files) {
        auto r = load_file(f.string());
        std::string diags;
        for (const auto& d : r.errors) diags += d.str() + "\n";
        EXPECT_TRUE(r.errors.empty()) << diags;
        EXPECT_TRUE(r.config.has_value()) << f;
    }
}

// The first ```yaml block after the given heading.
std::string block_after(const std::string& md, const std::string& heading) {
    auto h = md.find("\n" + heading + "\n");
    if (h == std::string::npos) return {};
    auto start = md.find("```yaml\n", h);
    if (start == std::string::npos) return {};
    start += 8;
    auto end = md.find("```", start);
    return end == std::string::npos ? std::string() : md.substr(start, end - start);
}

// The reference promises that its section snippets make a valid file together, and shows a
// complete example; both are checked so the page cannot drift from the code.
TEST(Examples, ReferenceSnippetsLoad) {
    const char* root = std::getenv("TGW_SOURCE_DIR");
    if (!root || !*root) GTEST_SKIP() << "TGW_SOURCE_DIR is not set";
    std::ifstream in(fs::path(root) / "docs/config-reference.md");
    ASSERT_TRUE(in) << "docs/config-reference.md not found";
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string md = ss.str();

    std::string sections;
    for (const char* h :
         {"## ports", "## neighbors", "## tunnels", "## security_associations", "## routes"}) {
        std::string b = block_after(md, h);
        EXPECT_FALSE(b.empty()) << "no yaml block after " << h;
        sections += b;
    }
    for (const auto& [name, text] :
         {std::pair{"section snippets", sections},
          std::pair{"complete example", block_after(md, "## A complete example")},
          std::pair{"GRE over IPsec example", block_after(md, "### Example: GRE over IPsec")}}) {
        auto r = load_string(text, name);
        std::string diags;
        for (const auto& d : r.errors) diags += d.str() + "\n";
        EXPECT_TRUE(r.errors.empty()) << diags;
    }
}

}  // namespace
}  // namespace tgw::config
