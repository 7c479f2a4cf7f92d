// Shared fixture for the SlowPath suites: a real (no-huge) EAL with DPDK's mempool, rings
// and NeighTable. Time is driven by hand with tsc_hz = 1000, so 1 s = 1000 ticks. Every test
// ends with a leak check: all mbufs are back in the pool once the slow path is destroyed and
// the inject ring drained.
#pragma once
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

#include "dp/meta.hpp"
#include "pkt.hpp"
#include "slowpath/slowpath.hpp"

namespace tgw::sptest {

using dp::Drop;
using dp::Punt;

constexpr unsigned pool_size = 1023;
constexpr uint64_t hz = 1000;

struct MetaIn {
    Punt punt;
    uint16_t in_port = 0;
    uint16_t l3_off = 0;
    uint8_t family = 4;
    uint32_t tunnel_in = dp::no_tunnel;
    uint16_t out_port = 0;
    IpAddr nh{};
    uint16_t mtu = 0;
};

class SlowPathFixture : public ::testing::Test {
protected:
    static inline rte_mempool* pool = nullptr;
    static inline int seq = 0;

    static void SetUpTestSuite() {
        pool = rte_pktmbuf_pool_create("sp_test", pool_size, 0, sizeof(dp::PktMeta),
                                       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool, nullptr);
    }
    static void TearDownTestSuite() {
        rte_mempool_free(pool);
        pool = nullptr;
    }

    void SetUp() override {
        ASSERT_NE(pool, nullptr);
        std::string id = std::to_string(seq++);
        neigh = std::make_unique<dp::NeighTable>(("sp_neigh" + id).c_str(), 1024);
        ASSERT_TRUE(neigh->ok());
        inject = rte_ring_create(("sp_inj" + id).c_str(), 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
        punt = rte_ring_create(("sp_punt" + id).c_str(), 1024, SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_NE(inject, nullptr);
        ASSERT_NE(punt, nullptr);
        ctr = std::make_unique<dp::LcoreCounters>();

        add_port("p0", mac_p0, {"192.0.2.1/24", "203.0.113.1/24", "2001:db8:1::1/64"});
        add_port("p1", mac_p1, {"198.51.100.1/24", "2001:db8:2::1/64"});
        add_port("p2-v6only", MacA{{0x02, 0, 0, 0, 0, 3}}, {"2001:db8:3::1/64"});
        add_tunnel("t0", {"10.255.0.1/30", "fd00::1/64"});
        add_tunnel("t1-v4only", {"10.255.1.1/30"});
        make_sp();
    }

    void make_sp(rte_ring* inj = nullptr, rte_mempool* p = nullptr) {
        sp.reset();
        slowpath::Env env;
        env.pool = p ? p : pool;
        env.neigh = neigh.get();
        env.inject = inj ? inj : inject;
        env.punt = {punt};
        env.ctr = ctr.get();
        env.tsc_hz = hz;
        env.icmp_rate = 100;  // 10 ticks per token
        env.icmp_burst = 50;
        sp = std::make_unique<slowpath::SlowPath>(env);
    }

    void TearDown() override {
        sp.reset();
        for (rte_mbuf* m : drain()) rte_pktmbuf_free(m);
        rte_mbuf* m;
        while (rte_ring_dequeue(punt, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        rte_ring_free(inject);
        rte_ring_free(punt);
        neigh.reset();
        if (pool) {
            EXPECT_EQ(rte_mempool_avail_count(pool), pool_size) << "mbuf leak";
        }
    }

    void add_port(const char* name, const MacA& mac, std::vector<const char*> addrs) {
        dp::Port p{};
        p.port_id = uint16_t(snap.ports.size());
        std::memcpy(p.mac, mac.b, 6);
        p.mtu = 1500;
        p.name = name;
        for (const char* a : addrs) p.addresses.push_back(pfx(a));
        snap.ports.push_back(p);
        config::Port cp;
        cp.name = name;
        cp.addresses = p.addresses;
        snap.config.ports.push_back(cp);
    }
    void add_tunnel(const char* name, std::vector<const char*> addrs) {
        snap.tunnels.emplace_back();
        snap.tunnels.back().name = name;
        config::Tunnel t;
        t.name = name;
        for (const char* a : addrs) t.addresses.push_back(pfx(a));
        snap.config.tunnels.push_back(t);
    }

    rte_mbuf* mk(const Bytes& b, const MetaIn& mi) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        EXPECT_NE(m, nullptr);
        auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, uint16_t(b.size())));
        EXPECT_NE(d, nullptr);
        std::memcpy(d, b.data(), b.size());
        dp::PktMeta& mt = dp::meta(m);
        std::memset(static_cast<void*>(&mt), 0xa5,
                    sizeof(mt));  // garbage the slow path must overwrite
        mt.punt = mi.punt;
        mt.in_port = mi.in_port;
        mt.l3_off = mi.l3_off;
        mt.family = mi.family;
        mt.tunnel_in = mi.tunnel_in;
        mt.out_port = mi.out_port;
        mt.nh_addr = mi.nh;
        mt.mtu = mi.mtu;
        return m;
    }
    void feed(const Bytes& b, const MetaIn& mi, uint64_t now = 0) {
        sp->handle(snap, mk(b, mi), now);
    }

    // Frames for the ARP / ND / local punts.
    void arp_in(const Bytes& frame, uint16_t port = 0) { feed(frame, {Punt::arp, port}); }
    void nd_in(const Bytes& ip6, const MacA& src = mac_h1, uint16_t port = 0,
               const MacA& dst = mac_p0) {
        feed(cat({eth(dst, src, wire::ethertype::ipv6), ip6}), {Punt::nd, port, 14, 6});
    }

    std::vector<rte_mbuf*> drain(rte_ring* r = nullptr) {
        std::vector<rte_mbuf*> out;
        rte_mbuf* m;
        while (rte_ring_dequeue(r ? r : inject, reinterpret_cast<void**>(&m)) == 0)
            out.push_back(m);
        return out;
    }
    // Drains the inject ring, checks the common metadata contract, returns the bytes.
    struct Out {
        Bytes data;
        dp::PktMeta meta;
    };
    std::vector<Out> take() {
        std::vector<Out> out;
        for (rte_mbuf* m : drain()) {
            Bytes b(rte_pktmbuf_pkt_len(m));
            const void* p = rte_pktmbuf_read(m, 0, uint32_t(b.size()), b.data());
            std::memcpy(b.data(), p, b.size());
            const dp::PktMeta& mt = dp::meta(m);
            EXPECT_EQ(mt.in_port, dp::port_local);
            EXPECT_EQ(mt.tunnel_in, dp::no_tunnel);
            EXPECT_EQ(mt.neigh_pos, -1);
            EXPECT_EQ(mt.handed, 0);
            EXPECT_EQ(mt.l3_off, 0);
            EXPECT_EQ(mt.punt, Punt::none);
            EXPECT_TRUE(mt.family == 4 || mt.family == 6);
            EXPECT_TRUE(mt.entry == dp::Entry::tx || mt.entry == dp::Entry::l3);
            out.push_back({b, mt});
            rte_pktmbuf_free(m);
        }
        return out;
    }

    uint64_t drops(Drop d) const { return ctr->drops[unsigned(d)]; }
    bool has_neigh(uint16_t port, const char* a, const MacA& want) {
        uint8_t mac[6];
        return neigh->lookup(port, ip(a), mac) && std::memcmp(mac, want.b, 6) == 0;
    }
    bool has_neigh(uint16_t port, const char* a) {
        uint8_t mac[6];
        return neigh->lookup(port, ip(a), mac);
    }
    const slowpath::SlowCounters& sc() { return sp->counters(); }

    dp::Snapshot snap;
    std::unique_ptr<dp::NeighTable> neigh;
    rte_ring* inject = nullptr;
    rte_ring* punt = nullptr;
    std::unique_ptr<dp::LcoreCounters> ctr;
    std::unique_ptr<slowpath::SlowPath> sp;
};

inline Bytes frame4(const MacA& src, const char* s, const char* d, size_t n = 100) {
    return cat({eth(mac_zero, src, wire::ethertype::ipv4), ipv4(s, d, 17, payload(n))});
}
inline Bytes frame6(const MacA& src, const char* s, const char* d, size_t n = 100) {
    return cat({eth(mac_zero, src, wire::ethertype::ipv6), ipv6(s, d, 17, payload(n))});
}

}  // namespace tgw::sptest
