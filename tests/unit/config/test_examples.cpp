// Every shipped configuration must load cleanly: the examples are what people copy.
// The source tree is found through TGW_SOURCE_DIR (set by the meson test() environment).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
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

}  // namespace
}  // namespace tgw::config
