#include "packet.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace tgw::bench {

using namespace wire;

const char* format_name(Format f) noexcept {
    switch (f) {
    case Format::plain: return "plain";
    case Format::gre: return "gre";
    case Format::esp: return "esp";
    case Format::teb: return "teb";
    }
    return "?";
}

const char* verdict_name(Verdict v) noexcept {
    static const char* n[verdict_count] = {"ok", "foreign", "bad_l2", "bad_ip", "bad_encap", "bad_gre_csum"};
    return n[unsigned(v)];
}

bool parse_mac(const std::string& s, Mac out) {
    unsigned b[6];
    char tail;
    if (sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++) {
        if (b[i] > 255) return false;
        out[i] = uint8_t(b[i]);
    }
    return true;
}

bool parse_ipv4(const std::string& s, uint32_t& out) {
    in_addr a;
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

Profile sealed_profile(const Profile& p, Format tx, Format sealed) {
    Profile q = p;
    if (tx == Format::esp && sealed == Format::plain) {
        q.host_ip = p.decap_src + 1;
        q.encap_dst = p.decap_dst;
    }
    return q;
}

size_t gre_len(const Profile& p) noexcept {
    return sizeof(Gre) + (p.gre_csum ? 4 : 0) + (p.gre_key ? 4 : 0) + (p.gre_seq ? 4 : 0);
}

size_t frame_len(const Profile& p, Format f, unsigned size) noexcept {
    size_t plain = size - fcs_len;
    if (f == Format::teb) return plain + sizeof(Ipv4) + gre_len(p) + sizeof(Eth);
    return f == Format::gre ? plain + sizeof(Ipv4) + gre_len(p) : plain;
}

namespace {

void put32(uint8_t* d, uint32_t v) {
    be32 b;
    b.set(v);
    std::memcpy(d, &b, 4);
}

uint32_t get32(const uint8_t* d) {
    be32 b;
    std::memcpy(&b, d, 4);
    return b.get();
}

// IPv4 header with total_len and checksum zero; returns its partial sum so build() only adds
// the length (RFC 1624 style: the sum is linear).
uint32_t ipv4_hdr(uint8_t* at, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id) {
    auto* ip = reinterpret_cast<Ipv4*>(at);
    std::memset(ip, 0, sizeof(*ip));
    ip->ver_ihl = 0x45;
    ip->id.set(id);
    ip->frag.set(Ipv4::flag_df);  // DF: the gateway must not fragment what it tunnels
    ip->ttl = ttl;
    ip->proto = proto;
    put32(ip->src, src);
    put32(ip->dst, dst);
    return csum_partial(ip, sizeof(*ip));
}

void eth_hdr(uint8_t* at, const uint8_t* dst, const uint8_t* src) {
    auto* e = reinterpret_cast<Eth*>(at);
    std::memcpy(e->dst, dst, 6);
    std::memcpy(e->src, src, 6);
    e->type.set(ethertype::ipv4);
}

bool ipv4_ok(const uint8_t* p, size_t avail) {
    if (avail < sizeof(Ipv4)) return false;
    auto* ip = reinterpret_cast<const Ipv4*>(p);
    if (ip->version() != 4 || ip->header_len() != sizeof(Ipv4) || ip->total_len.get() > avail ||
        ip->total_len.get() < sizeof(Ipv4))
        return false;
    return csum_fold(csum_partial(ip, sizeof(Ipv4))) == 0;
}

}  // namespace

Builder::Builder(const Profile& p, Format f, unsigned flows) : p_(p), f_(f), flows_(flows ? flows : 1) {
    t_.resize(flows_);
    for (unsigned i = 0; i < flows_; i++) {
        Tmpl& t = t_[i];
        std::memset(&t, 0, sizeof(t));
        uint8_t* h = t.hdr;
        // Flows differ in the inner addresses and source port: 5-tuples a gateway (or an RSS
        // NIC in front of it) spreads like real traffic.
        const uint16_t sport = uint16_t(1024 + i % 64000);
        uint32_t src, dst;
        if (f == Format::plain) {
            eth_hdr(h, p.gw_a_mac, p.a_mac);
            inner_off_ = sizeof(Eth);
            src = p.host_ip;
            dst = p.encap_dst + 1 + i % 65534;
        } else {  // gre, teb
            eth_hdr(h, p.gw_b_mac, p.b_mac);
            t.outer_sum = ipv4_hdr(h + sizeof(Eth), p.peer_ip, p.gw_wan_ip, ipproto::gre, p.ttl, uint16_t(i));
            gre_off_ = sizeof(Eth) + sizeof(Ipv4);
            auto* g = reinterpret_cast<Gre*>(h + gre_off_);
            uint16_t fl = uint16_t((p.gre_csum ? Gre::flag_c : 0) | (p.gre_key ? Gre::flag_k : 0) |
                                   (p.gre_seq ? Gre::flag_s : 0));
            g->flags_ver.set(fl);
            g->proto.set(f == Format::teb ? ethertype::teb : ethertype::ipv4);
            size_t o = gre_off_ + sizeof(Gre) + (p.gre_csum ? 4 : 0);
            if (p.gre_key) put32(h + o, p.key);
            inner_off_ = gre_off_ + gre_len(p);
            if (f == Format::teb) {  // a station behind the peer (B's MAC) to the LAN host
                eth_hdr(h + inner_off_, p.a_mac, p.b_mac);
                inner_off_ += sizeof(Eth);
            }
            src = p.decap_src + 1 + i % 65534;
            dst = p.decap_dst + 1 + i % 65534;
        }
        t.inner_sum = ipv4_hdr(h + inner_off_, src, dst, ipproto::udp, p.ttl, uint16_t(i));
        auto* u = reinterpret_cast<Udp*>(h + inner_off_ + sizeof(Ipv4));
        u->sport.set(sport);
        u->dport.set(p.dport);
        // UDP checksum 0 = none (RFC 768); the gateway does not look at it.
    }
    hdr_len_ = inner_off_ + sizeof(Ipv4) + sizeof(Udp);
}

size_t Builder::build(uint8_t* buf, unsigned flow, unsigned size, const Stamp& st, uint32_t gre_seq) const noexcept {
    const Tmpl& t = t_[flow % flows_];
    const size_t len = frame_len(p_, f_, size);
    std::memcpy(buf, t.hdr, hdr_len_);
    std::memcpy(buf + hdr_len_, &st, sizeof(st));
    const uint16_t inner_len = uint16_t(len - inner_off_);
    auto* ip = reinterpret_cast<Ipv4*>(buf + inner_off_);
    ip->total_len.set(inner_len);
    ip->csum.set(csum_fold(t.inner_sum + inner_len));
    reinterpret_cast<Udp*>(buf + inner_off_ + sizeof(Ipv4))->len.set(uint16_t(inner_len - sizeof(Ipv4)));
    if (f_ == Format::gre || f_ == Format::teb) {
        auto* op = reinterpret_cast<Ipv4*>(buf + sizeof(Eth));
        const uint16_t outer_len = uint16_t(len - sizeof(Eth));
        op->total_len.set(outer_len);
        op->csum.set(csum_fold(t.outer_sum + outer_len));
        if (p_.gre_seq) put32(buf + gre_off_ + gre_len(p_) - 4, gre_seq);
        if (p_.gre_csum) {
            // RFC 2784 §2.5: over the GRE header and payload, with the checksum field zero.
            uint8_t* g = buf + gre_off_;
            std::memset(g + 4, 0, 2);
            uint16_t c = csum_fold(csum_partial(g, len - gre_off_));
            g[4] = uint8_t(c >> 8);
            g[5] = uint8_t(c);
        }
    }
    return len;
}

Checked check(const Profile& p, const Expect& e, const uint8_t* f, size_t len) noexcept {
    Checked r;
    if (len < plain_hdr_len + sizeof(Stamp)) return r;
    auto* eth = reinterpret_cast<const Eth*>(f);
    if (eth->type.get() != ethertype::ipv4) return r;
    size_t off = sizeof(Eth);
    auto* ip = reinterpret_cast<const Ipv4*>(f + off);
    if (ip->proto != ipproto::udp && ip->proto != ipproto::gre) return r;

    bool got_gre = ip->proto == ipproto::gre;
    Verdict v = Verdict::ok;
    if (!ipv4_ok(f + off, len - off)) v = Verdict::bad_ip;
    size_t end = off + (v == Verdict::ok ? ip->total_len.get() : len - off);  // ignore Ethernet padding
    if (got_gre) {
        if (ip->total_len.get() < sizeof(Ipv4) + sizeof(Gre) || end - off < sizeof(Ipv4) + sizeof(Gre)) return r;
        size_t go = off + sizeof(Ipv4);
        auto* g = reinterpret_cast<const Gre*>(f + go);
        uint16_t fl = g->flags_ver.get();
        size_t gl = gre_header_len(fl);
        const bool teb = g->proto.get() == ethertype::teb;
        const size_t inner_eth = teb ? sizeof(Eth) : 0;
        if (go + gl + inner_eth + sizeof(Ipv4) + sizeof(Udp) + sizeof(Stamp) > end) return r;
        r.member = get32(ip->dst) - p.peer_ip;  // unsigned: below peer_ip wraps to a huge index
        if (get32(ip->src) != p.gw_wan_ip || r.member >= p.ecmp_members ||
            g->proto.get() != (e.f == Format::teb ? ethertype::teb : ethertype::ipv4) ||
            (fl & (Gre::reserved0_mask | Gre::version_mask)) != 0 || bool(fl & Gre::flag_k) != p.gre_key ||
            bool(fl & Gre::flag_c) != p.gre_csum || bool(fl & Gre::flag_s) != p.gre_seq)
            v = v == Verdict::ok ? Verdict::bad_encap : v;
        size_t o = go + sizeof(Gre);
        if (fl & Gre::flag_c) {
            if (v == Verdict::ok && csum_fold(csum_partial(f + go, end - go)) != 0) v = Verdict::bad_gre_csum;
            o += 4;
        }
        if (fl & Gre::flag_k) {
            if (get32(f + o) != p.key && v == Verdict::ok) v = Verdict::bad_encap;
            o += 4;
        }
        if (fl & Gre::flag_s) {
            r.has_gre_seq = true;
            r.gre_seq = get32(f + o);
            o += 4;
        }
        if (teb) {
            if (reinterpret_cast<const Eth*>(f + o)->type.get() != ethertype::ipv4) return r;
            o += sizeof(Eth);
        }
        off = o;
        ip = reinterpret_cast<const Ipv4*>(f + off);
        if (ip->proto != ipproto::udp) return r;
        if (v == Verdict::ok && !ipv4_ok(f + off, end - off)) v = Verdict::bad_ip;
    }
    if (off + sizeof(Ipv4) + sizeof(Udp) + sizeof(Stamp) > len) return r;
    auto* st = reinterpret_cast<const Stamp*>(f + off + sizeof(Ipv4) + sizeof(Udp));
    if (st->magic != stamp_magic) return r;  // UDP, but not ours
    r.stamp = st;
    if (got_gre != (e.f == Format::gre || e.f == Format::teb) && v == Verdict::ok) v = Verdict::bad_encap;
    if (e.check_macs && v == Verdict::ok &&
        (std::memcmp(eth->dst, e.dst_mac, 6) != 0 || std::memcmp(eth->src, e.src_mac, 6) != 0))
        v = Verdict::bad_l2;
    r.v = v;
    return r;
}

double SizeMix::mean() const noexcept {
    double s = 0;
    for (uint16_t x : cycle) s += x;
    return cycle.empty() ? 0 : s / double(cycle.size());
}

SizeMix parse_size(const std::string& s) {
    SizeMix m;
    m.name = s;
    if (s == "imix") {
        // "Simple IMIX" 7:4:1 (RFC 6985 §4 discusses IMIX; the 7:4:1 ratio is the common one),
        // with 1420 B instead of 1518 B as the large size: a 1518 B frame plus GRE does not fit
        // a 1500 B underlay. Interleaved so bursts mix sizes like real traffic.
        m.cycle = {64, 570, 64, 64, 1420, 64, 570, 64, 64, 570, 64, 570};
        return m;
    }
    char* end = nullptr;
    unsigned long v = strtoul(s.c_str(), &end, 10);
    if (end && *end == 0 && v >= min_size && v <= max_size) m.cycle = {uint16_t(v)};
    return m;
}

bool write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames) {
    FILE* f = fopen(path.c_str(), "wb");
    if (!f) return false;
    // pcap global header: magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET (1)
    const uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    bool ok = fwrite(gh, sizeof(gh), 1, f) == 1;
    uint32_t usec = 0;
    for (auto& fr : frames) {
        const uint32_t rh[4] = {0, usec++, uint32_t(fr.size()), uint32_t(fr.size())};
        ok = ok && fwrite(rh, sizeof(rh), 1, f) == 1 && fwrite(fr.data(), fr.size(), 1, f) == 1;
    }
    return fclose(f) == 0 && ok;
}

}  // namespace tgw::bench
