// A minimal JSON writer: enough for the generator's report, no dependency to install.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

namespace tgw::bench {

class Json {
public:
    Json& begin_object() { return open('{'); }
    Json& end_object() { return close('}'); }
    Json& begin_array() { return open('['); }
    Json& end_array() { return close(']'); }
    Json& key(const char* k) {
        sep();
        quote(k);
        s_ += ':';
        after_key_ = true;
        return *this;
    }
    Json& value(const char* v) {
        sep();
        quote(v);
        return *this;
    }
    Json& value(const std::string& v) { return value(v.c_str()); }
    Json& value(bool v) {
        sep();
        s_ += v ? "true" : "false";
        return *this;
    }
    Json& value(double v) {
        sep();
        if (!std::isfinite(v)) {
            s_ += "null";
        } else {
            char b[40];
            snprintf(b, sizeof(b), "%.6g", v);
            s_ += b;
        }
        return *this;
    }
    template <typename T, typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
    Json& value(T v) {
        sep();
        s_ += std::to_string(v);
        return *this;
    }
    template <typename T>
    Json& kv(const char* k, T v) {
        key(k);
        return value(v);
    }
    const std::string& str() const { return s_; }

private:
    Json& open(char c) {
        sep();
        s_ += c;
        first_ = true;
        return *this;
    }
    Json& close(char c) {
        s_ += c;
        first_ = false;
        return *this;
    }
    void sep() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_ && !s_.empty()) s_ += ',';
        first_ = false;
    }
    void quote(const char* v) {
        s_ += '"';
        for (const char* p = v; *p; p++) {
            if (*p == '"' || *p == '\\') s_ += '\\';
            if (uint8_t(*p) < 0x20) continue;  // no control characters in our strings
            s_ += *p;
        }
        s_ += '"';
    }
    std::string s_;
    bool first_ = true;
    bool after_key_ = false;
};

}  // namespace tgw::bench
