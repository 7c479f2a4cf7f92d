#include "dp/counters.hpp"

namespace tgw::dp {

namespace {
constexpr const char* names[] = {
#define TGW_X(e, n, d) n,
    TGW_DROP_REASONS(TGW_X)
#undef TGW_X
};
constexpr const char* helps[] = {
#define TGW_X(e, n, d) d,
    TGW_DROP_REASONS(TGW_X)
#undef TGW_X
};
static_assert(sizeof(names) / sizeof(names[0]) == drop_count);
}  // namespace

const char* drop_name(Drop d) noexcept { return unsigned(d) < drop_count ? names[unsigned(d)] : "?"; }
const char* drop_help(Drop d) noexcept { return unsigned(d) < drop_count ? helps[unsigned(d)] : "?"; }

}  // namespace tgw::dp
