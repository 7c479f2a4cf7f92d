// rte_log with tunnelgw's own log type. Never used on the fast path.
#pragma once
#include <rte_log.h>

namespace tgw {
extern int g_logtype;
}

#define TGW_LOG(level, fmt, ...) \
    rte_log(RTE_LOG_##level, ::tgw::g_logtype, "tunnelgw: " fmt "\n", ##__VA_ARGS__)
