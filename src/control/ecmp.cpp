#include "control/ecmp.hpp"

#include "dp/snapshot.hpp"

#include <cmath>
#include <map>
#include <mutex>

namespace tgw::control {

static_assert(dp::ecmp_mask + 1 == ecmp_table_size);

namespace {

// Fixed hash functions (not std::hash, which may change with the library): the table must
// be the same on every machine and after every restart.
uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}
uint64_t mix(uint64_t x) {  // splitmix64 finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

std::vector<uint8_t> compute(const std::vector<EcmpMember>& members) {
    struct M {
        uint64_t seed;
        double inv_w;
        uint8_t index;
    };
    std::vector<M> live;
    for (size_t i = 0; i < members.size(); i++)
        if (members[i].live && members[i].weight > 0)
            live.push_back({fnv1a(members[i].name), 1.0 / members[i].weight, uint8_t(i)});
    if (live.empty()) return {};
    std::vector<uint8_t> t(ecmp_table_size);
    for (uint32_t s = 0; s < ecmp_table_size; s++) {
        // Score -ln(u)/w, lowest wins: the weighted form of highest-random-weight hashing.
        double best = INFINITY;
        uint8_t pick = live[0].index;
        for (const M& m : live) {
            uint64_t h = mix(m.seed ^ mix(s + 0x9e3779b97f4a7c15ull));
            double u = (double(h >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
            double score = -std::log(u) * m.inv_w;
            if (score < best) {
                best = score;
                pick = m.index;
            }
        }
        t[s] = pick;
    }
    return t;
}

}  // namespace

std::shared_ptr<const std::vector<uint8_t>> ecmp_table(const std::vector<EcmpMember>& members) {
    std::string key;
    for (auto& m : members) {
        if (!m.live) continue;
        key += m.name;
        key += '\0';
        key += std::to_string(m.weight);
        key += '\0';
    }
    // ...and the position of each member, since the table holds indexes into `members`.
    for (auto& m : members) key += m.live ? '1' : '0';
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<const std::vector<uint8_t>>> cache;
    std::lock_guard lk(mu);
    if (auto it = cache.find(key); it != cache.end())
        if (auto sp = it->second.lock()) return sp;
    auto sp = std::make_shared<const std::vector<uint8_t>>(compute(members));
    cache[key] = sp;
    // Forget tables nobody holds any more.
    for (auto it = cache.begin(); it != cache.end();)
        it = it->second.expired() ? cache.erase(it) : std::next(it);
    return sp;
}

}  // namespace tgw::control
