#include "engine.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace tgw::bench {

// ---- Histogram ------------------------------------------------------------------------

unsigned Histogram::index(uint64_t v) noexcept {
    if (v < (1u << sub_bits)) return unsigned(v);
    unsigned e = 63u - unsigned(__builtin_clzll(v));  // >= sub_bits
    unsigned idx = ((e - sub_bits + 1) << sub_bits) + unsigned((v >> (e - sub_bits)) & ((1u << sub_bits) - 1));
    return std::min(idx, (exps << sub_bits) - 1);
}

uint64_t Histogram::upper(unsigned idx) noexcept {
    if (idx < (1u << sub_bits)) return idx;
    unsigned e = (idx >> sub_bits) + sub_bits - 1;
    uint64_t sub = idx & ((1u << sub_bits) - 1);
    uint64_t lo = ((uint64_t(1) << sub_bits) + sub) << (e - sub_bits);
    return lo + (uint64_t(1) << (e - sub_bits)) - 1;
}

void Histogram::add(uint64_t v) noexcept {
    b_[index(v)]++;
    n_++;
    sum_ += v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
}

uint64_t Histogram::percentile(double p) const noexcept {
    if (!n_) return 0;
    uint64_t want = uint64_t(std::ceil(p / 100.0 * double(n_)));
    if (want == 0) want = 1;
    uint64_t acc = 0;
    for (unsigned i = 0; i < (exps << sub_bits); i++) {
        acc += b_[i];
        if (acc >= want) return std::min(upper(i), max_);
    }
    return max_;
}

void Histogram::clear() noexcept { *this = Histogram(); }

uint64_t TrialResult::invalid() const noexcept {
    uint64_t s = 0;
    for (unsigned v = unsigned(Verdict::bad_l2); v < verdict_count; v++) s += verdicts[v];
    return s;
}

// ---- Engine ---------------------------------------------------------------------------

namespace {

constexpr unsigned max_burst = 64;
constexpr uint64_t max_tracked_seq = uint64_t(1) << 28;  // 32 MB bitmap: 28 s at 10 Mpps

uint16_t find_port(const std::string& dev) {
    std::string name = dev.substr(0, dev.find(','));
    uint16_t id;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
        throw std::runtime_error("device " + name + " not found (PCI device bound to vfio-pci? valid vdev?)");
    return id;
}

void start_port(uint16_t id, rte_mempool* rx_pool) {
    rte_eth_conf conf{};
    if (int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0)
        throw std::runtime_error(std::string("port configure: ") + rte_strerror(-rc));
    uint16_t nrx = 1024, ntx = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
    int sock = rte_eth_dev_socket_id(id);
    if (sock < 0) sock = int(rte_socket_id());
    if (rte_eth_rx_queue_setup(id, 0, nrx, unsigned(sock), nullptr, rx_pool) != 0 ||
        rte_eth_tx_queue_setup(id, 0, ntx, unsigned(sock), nullptr) != 0)
        throw std::runtime_error("queue setup failed on port " + std::to_string(id));
    // Promiscuous: the gateway writes the neighbour MAC we configured, which need not be the
    // port's own; the checks in check() decide what is right.
    rte_eth_promiscuous_enable(id);
    if (int rc = rte_eth_dev_start(id); rc != 0)
        throw std::runtime_error(std::string("port start: ") + rte_strerror(-rc));
}

// Zero every buffer once: build() writes headers and the stamp, the payload stays zero.
void zero_buf(rte_mempool*, void*, void* obj, unsigned) {
    auto* m = static_cast<rte_mbuf*>(obj);
    std::memset(m->buf_addr, 0, m->buf_len);
}

// rte_eal_wait_lcore() spins: the main lcore sleeps instead, so it can share a CPU with a
// worker (or with the gateway) without taking cycles from it.
void wait_lcores() {
    unsigned l;
    RTE_LCORE_FOREACH_WORKER(l) {
        while (rte_eal_get_lcore_state(l) == RUNNING) rte_delay_us_sleep(1000);
        rte_eal_wait_lcore(l);
    }
}

}  // namespace

struct Engine::Loop {
    Engine* e;
    TrialSpec spec;
    bool do_tx, do_rx;
    uint64_t hz, t0, t_end, t_drain_end;
    uint64_t total_due;  // paced: packets in the whole window
    uint64_t max_seq = 0;
    bool any_seq = false;
    rte_mbuf* pending[max_burst];  // unpaced: refused packets, retried first
    unsigned pend_off = 0, pend_n = 0;
    TrialResult r;
};

Engine::Engine(const EngineConfig& c)
    : c_(c),
      builder_(sealed_profile(c.prof, c.tx_format, c.sealed), c.tx_format == Format::esp ? c.sealed : c.tx_format,
               c.flows) {
    if (c_.sizes.cycle.empty()) throw std::runtime_error("no frame size");
    if (c_.burst == 0 || c_.burst > max_burst) c_.burst = 32;
    if (c_.tx_format == Format::esp) seal_ = std::make_unique<EspSa>(c_.prof, c_.esp_tx, true);
    if (c_.rx_format == Format::esp) open_ = std::make_unique<EspSa>(c_.prof, c_.esp_rx, false);
    // What comes back is checked after decryption: the packet that was inside the ESP.
    expect_.f = c_.rx_format == Format::esp ? c_.sealed : c_.rx_format;
    expect_.check_macs = c_.check_macs;
    expect_.dst_mac = c_.tx_on_a ? c_.prof.b_mac : c_.prof.a_mac;
    expect_.src_mac = c_.tx_on_a ? c_.prof.gw_b_mac : c_.prof.gw_a_mac;
    port_a_ = find_port(c_.dev_a);
    port_b_ = find_port(c_.dev_b);
    tx_pool_ = rte_pktmbuf_pool_create("gen_tx", c_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    rx_pool_ = rte_pktmbuf_pool_create("gen_rx", c_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    if (!tx_pool_ || !rx_pool_) throw std::runtime_error("cannot create mbuf pools (more memory: -m)");
    rte_mempool_obj_iter(tx_pool_, zero_buf, nullptr);
    start_port(port_a_, rx_pool_);
    start_port(port_b_, rx_pool_);
    // Lcores: none besides main → main does everything; one worker → it does TX and RX;
    // two or more → the first transmits, the second receives.
    std::vector<unsigned> w;
    unsigned l;
    RTE_LCORE_FOREACH_WORKER(l) w.push_back(l);
    tx_lcore_ = w.empty() ? rte_get_main_lcore() : w[0];
    rx_lcore_ = w.size() >= 2 ? w[1] : tx_lcore_;
    seen_.assign(max_tracked_seq / 64, 0);
}

Engine::~Engine() {
    rte_eth_dev_stop(port_a_);
    rte_eth_dev_stop(port_b_);
    rte_eth_dev_close(port_a_);
    rte_eth_dev_close(port_b_);
    rte_mempool_free(tx_pool_);
    rte_mempool_free(rx_pool_);
}

bool Engine::wait_links(double seconds) {
    const uint64_t hz = rte_get_tsc_hz(), end = rte_rdtsc() + uint64_t(seconds * double(hz));
    while (rte_rdtsc() < end) {
        rte_eth_link a{}, b{};
        rte_eth_link_get_nowait(port_a_, &a);
        rte_eth_link_get_nowait(port_b_, &b);
        if (a.link_status && b.link_status) return true;
        rte_delay_us_sleep(10000);
    }
    return false;
}

void Engine::tx_part(Loop& l, uint64_t now) noexcept {
    TrialResult& r = l.r;
    const uint16_t port = c_.tx_on_a ? port_a_ : port_b_;
    const bool paced = l.spec.rate_pps > 0;
    if (now >= l.t_end) return;
    if (paced || l.pend_n == 0) {
        unsigned n = c_.burst;
        if (paced) {
            // Packets due by now: self-correcting, a late loop sends a bigger burst next time,
            // up to max_catchup. Beyond that the generator itself stalled (a shared CPU, the
            // hypervisor): catching up would hit the gateway with one back-to-back burst and
            // charge our stall to it as ring overflow. Skip ahead and count the shortfall.
            double due = double(now - l.t0) * l.spec.rate_pps / double(l.hz);
            r.due = std::min(uint64_t(due), l.total_due);
            const uint64_t done = r.attempted + r.skipped;
            if (r.due <= done) return;
            uint64_t owed = r.due - done;
            if (owed > c_.max_catchup) {
                r.skipped += owed - c_.burst;
                owed = c_.burst;
            }
            n = unsigned(std::min<uint64_t>(owed, c_.burst));
        }
        rte_mbuf** m = l.pending;
        if (rte_pktmbuf_alloc_bulk(tx_pool_, m, n) != 0) return;  // all in flight: try again
        const uint64_t tsc = rte_rdtsc();
        const auto& cyc = c_.sizes.cycle;
        for (unsigned i = 0; i < n; i++) {
            const uint64_t k = flow_cursor_++;
            const Stamp st{stamp_magic, l.spec.id, uint32_t(r.attempted + i), tsc};
            size_t len = builder_.build(rte_pktmbuf_mtod(m[i], uint8_t*), unsigned(k % builder_.flows()),
                                        cyc[k % cyc.size()], st, gre_seq_++);
            m[i]->data_len = uint16_t(len);
            m[i]->pkt_len = uint32_t(len);
        }
        if (seal_) {
            // Encrypted as sent, so every packet has a fresh stamp and sequence number.
            const unsigned k = seal_->seal(m, uint16_t(n));
            if (k < n) {
                rte_pktmbuf_free_bulk(m + k, n - k);
                r.skipped += n - k;
                n = k;
            }
        }
        r.attempted += n;
        l.pend_off = 0;
        l.pend_n = n;
    }
    uint16_t s = rte_eth_tx_burst(port, 0, l.pending + l.pend_off, uint16_t(l.pend_n));
    for (uint16_t i = 0; i < s; i++) r.sent_bytes += l.pending[l.pend_off + i]->pkt_len + fcs_len;
    r.sent += s;
    l.pend_off += s;
    l.pend_n -= s;
    if (paced && l.pend_n) {
        // Paced: a refused packet is not retried (that would shift the schedule); it counts
        // as lost, as a NIC's rx_missed would on the gateway's side.
        rte_pktmbuf_free_bulk(l.pending + l.pend_off, l.pend_n);
        r.unsent += l.pend_n;
        l.pend_n = 0;
    }
}

void Engine::rx_port(Loop& l, uint16_t port, bool expected) noexcept {
    TrialResult& r = l.r;
    rte_mbuf* pkts[max_burst];
    uint16_t n = rte_eth_rx_burst(port, 0, pkts, uint16_t(c_.burst));
    if (!n) return;
    // ESP expected: the first `decrypted` frames came out of an ESP packet; any other frame of
    // ours got here in clear, which is wrong however valid it looks.
    uint16_t decrypted = n;
    if (open_ && expected) n = open_esp(l, pkts, n, decrypted);
    const uint64_t now = rte_rdtsc();  // one reading per burst: the burst arrived together
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        if (m->nb_segs != 1) {
            r.foreign++;
            continue;
        }
        Checked ck = check(c_.prof, expect_, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
        if (i >= decrypted && ck.v == Verdict::ok) ck.v = Verdict::bad_encap;
        if (!ck.stamp) {
            r.foreign++;
            continue;
        }
        if (ck.stamp->trial != l.spec.id) {
            r.late++;
            continue;
        }
        if (!expected) {
            r.wrong_port++;
            continue;
        }
        r.verdicts[unsigned(ck.v)]++;
        if (ck.v != Verdict::ok) continue;
        const uint64_t seq = ck.stamp->seq;
        if (seq < max_tracked_seq) {
            uint64_t& w = seen_[seq / 64];
            const uint64_t bit = uint64_t(1) << (seq % 64);
            if (w & bit) {
                r.duplicates++;
                continue;
            }
            w |= bit;
        }
        if (l.any_seq && seq < l.max_seq) r.reordered++;
        if (!l.any_seq || seq > l.max_seq) l.max_seq = seq;
        l.any_seq = true;
        if (ck.has_gre_seq) {
            // RFC 2890 §2.2: increasing (serial arithmetic); one tunnel, one sender worker.
            if (have_gre_seq_ && int32_t(ck.gre_seq - last_gre_seq_) <= 0) r.gre_seq_regress++;
            last_gre_seq_ = ck.gre_seq;
            have_gre_seq_ = true;
        }
        r.received++;
        if (c_.rx_format == Format::gre) r.member_pkts[std::min(ck.member, TrialResult::max_members - 1)]++;
        r.rx_bytes += m->pkt_len + fcs_len;
        r.lat.add(now > ck.stamp->tsc ? now - ck.stamp->tsc : 0);
    }
    rte_pktmbuf_free_bulk(pkts, n);
}

// ESP from the gateway: decrypt with the peer's inbound SA, then check the packet that was
// inside. Not ESP, or not our SPI: checked as it is (ARP, a misrouted frame). A frame that
// does not decrypt is ours but broken: bad_encap.
uint16_t Engine::open_esp(Loop& l, rte_mbuf** pkts, uint16_t n, uint16_t& decrypted) noexcept {
    rte_mbuf* esp[max_burst];
    rte_mbuf* other[max_burst];
    uint16_t ne = 0, no = 0;
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t* f = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
        const size_t esp_off = sizeof(wire::Eth) + sizeof(wire::Ipv4);
        wire::be32 spi;
        if (pkts[i]->nb_segs == 1 && pkts[i]->data_len >= esp_off + 8 &&
            reinterpret_cast<const wire::Eth*>(f)->type.get() == wire::ethertype::ipv4 &&
            f[sizeof(wire::Eth)] == 0x45 && f[sizeof(wire::Eth) + 9] == wire::ipproto::esp &&
            (std::memcpy(&spi, f + esp_off, 4), spi.get() == open_->spi()))
            esp[ne++] = pkts[i];
        else
            other[no++] = pkts[i];
    }
    const uint16_t ok = ne ? open_->open(esp, ne) : 0;
    l.r.verdicts[unsigned(Verdict::bad_encap)] += ne - ok;
    rte_pktmbuf_free_bulk(esp + ok, ne - ok);
    std::memcpy(pkts, esp, ok * sizeof(*pkts));
    std::memcpy(pkts + ok, other, no * sizeof(*pkts));
    decrypted = ok;
    return uint16_t(ok + no);
}

void Engine::rx_part(Loop& l) noexcept {
    // Poll both ports: the wrong one too, to catch misrouted packets (and drain ARP).
    rx_port(l, port_a_, !c_.tx_on_a);
    rx_port(l, port_b_, c_.tx_on_a);
}

int Engine::loop_main(void* arg) {
    Loop& l = *static_cast<Loop*>(arg);
    Engine& e = *l.e;
    uint64_t now;
    while ((now = rte_rdtsc()) < l.t0) rte_pause();
    const uint64_t stop = l.do_rx ? l.t_drain_end : l.t_end;
    while ((now = rte_rdtsc()) < stop) {
        if (l.do_tx) e.tx_part(l, now);
        if (l.do_rx) e.rx_part(l);
    }
    if (l.do_tx) {
        l.r.elapsed_s = double(std::min(now, l.t_end) - l.t0) / double(l.hz);
        if (l.pend_n) {  // unpaced: what the port never took
            rte_pktmbuf_free_bulk(l.pending + l.pend_off, l.pend_n);
            l.r.unsent += l.pend_n;
            l.pend_n = 0;
        }
    }
    return 0;
}

TrialResult Engine::run(const TrialSpec& t) {
    const uint64_t hz = rte_get_tsc_hz();
    Loop base{};
    base.e = this;
    base.spec = t;
    base.hz = hz;
    base.t0 = rte_rdtsc() + hz / 1000;  // both loops start on the same tick
    base.t_end = base.t0 + uint64_t(t.seconds * double(hz));
    base.t_drain_end = base.t_end + uint64_t(t.drain_s * double(hz));
    base.total_due = t.rate_pps > 0 ? uint64_t(t.rate_pps * t.seconds) : 0;
    base.r.spec = t;
    const unsigned main = rte_get_main_lcore();

    TrialResult r;
    if (tx_lcore_ == rx_lcore_) {
        Loop l = base;
        l.do_tx = l.do_rx = true;
        if (tx_lcore_ == main) loop_main(&l);
        else {
            rte_eal_remote_launch(loop_main, &l, tx_lcore_);
            wait_lcores();
        }
        r = l.r;
    } else {
        Loop tx = base, rx = base;
        tx.do_tx = true;
        tx.do_rx = false;
        rx.do_tx = false;
        rx.do_rx = true;
        rte_eal_remote_launch(loop_main, &rx, rx_lcore_);
        rte_eal_remote_launch(loop_main, &tx, tx_lcore_);
        wait_lcores();
        r = rx.r;  // receive side figures, then the transmit side's
        r.elapsed_s = tx.r.elapsed_s;
        r.due = tx.r.due;
        r.attempted = tx.r.attempted;
        r.sent = tx.r.sent;
        r.unsent = tx.r.unsent;
        r.skipped = tx.r.skipped;
        r.sent_bytes = tx.r.sent_bytes;
    }
    // Clear only the part of the bitmap this trial could have set.
    size_t words = std::min<size_t>(seen_.size(), r.attempted / 64 + 1);
    std::fill(seen_.begin(), seen_.begin() + long(words), 0);
    return r;
}

}  // namespace tgw::bench
