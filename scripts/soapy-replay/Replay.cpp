// SoapySDR "replay" driver: serves recordings as a receive stream, so that `droneid live` (and any
// SoapySDR program) can be tested and rehearsed without radio hardware.
//
// Device arguments (SoapySDR key=value pairs, comma separated):
//   file=PATH        raw cf32 (interleaved little-endian float I/Q) or a SigMF recording
//                    (PATH.sigmf-meta, PATH.sigmf-data or the base PATH; datatype cf32_le). Served
//                    at whatever frequency the device is tuned to.
//   map=F:PATH;F:PATH...
//                    several recordings on one time line, each served only while the device is
//                    tuned to within 1 kHz of its frequency F (Hz: 2414.5e6, 2414500000, 2414.5M).
//                    Tuned anywhere else the device serves noise (see noise=).
//   rate=HZ          sample rate of raw files (SigMF brings its own). When the recordings' rate is
//                    known it is the only rate the device offers; otherwise any rate in
//                    [100 kS/s, 200 MS/s] is accepted and the files are served at it.
//   freq=HZ          initial centre frequency (default: SigMF core:frequency, the first map entry,
//                    or 2444.5 MHz).
//   paced=1|0        1 (default): samples arrive at real time, in packets of 16384 samples, into a
//                    bounded device buffer; 0: as fast as they are read. `pace=` is an alias.
//   loop=0|1         1: start over at the end of each file; 0 (default): the stream ends at the
//                    end of the longest file.
//   buffer_ms=MS     device buffer when paced (default 250 ms of samples). A reader that falls
//                    further behind loses the samples that do not fit, exactly like a FIFO in
//                    hardware: readStream returns SOAPY_SDR_OVERFLOW once at the gap and the next
//                    read's timestamp is the first sample after it.
//   noise=POWER      power per complex sample of the Gaussian noise served where no file is
//                    mapped (default 1.0, the noise floor of `droneid synth`; 0 serves zeros).
//   fail_after=N     simulate a device lost mid-stream: once N samples were delivered, every
//                    read fails with SOAPY_SDR_STREAM_ERROR.
//   cs16_scale=S     CS16 streams carry round(x * S) clipped to int16 (default 4096: 18 dB of
//                    headroom over unit-power noise). The stream's native format is CF32.
//
// Timestamps: every read has SOAPY_SDR_HAS_TIME with timeNs = first sample index * 1e9 / rate,
// counted from stream activation (getHardwareTime is on the same clock). End of stream: the last
// read carries SOAPY_SDR_END_BURST, later reads return 0 with SOAPY_SDR_END_BURST, and
// readSetting("eof") returns "true".

#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Logger.hpp>
#include <SoapySDR/Registry.hpp>
#include <SoapySDR/Time.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using cf32 = std::complex<float>;

constexpr size_t PACKET = 16384;       // samples per paced packet and the stream MTU
constexpr size_t NOISE_LEN = 1 << 20;  // length of the cycled noise table
constexpr double DEFAULT_FREQ = 2444.5e6;
constexpr double FREQ_MIN = 70e6, FREQ_MAX = 6e9;
constexpr double RATE_MIN = 100e3, RATE_MAX = 200e6;
constexpr double MAP_TOLERANCE_HZ = 1e3;

double parseHz(const std::string &text) {
    std::string s = text;
    double mult = 1.0;
    if (!s.empty()) {
        switch (s.back()) {
            case 'k': case 'K': mult = 1e3; s.pop_back(); break;
            case 'M': mult = 1e6; s.pop_back(); break;
            case 'G': mult = 1e9; s.pop_back(); break;
            default: break;
        }
    }
    size_t used = 0;
    double v = 0.0;
    try {
        v = std::stod(s, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != s.size() || !std::isfinite(v)) {
        throw std::runtime_error("replay: '" + text + "' is not a frequency (e.g. 2414.5e6, 2414.5M)");
    }
    return v * mult;
}

bool endsWith(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool fileExists(const std::string &p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The value after "key": in a JSON text, as raw text (number) or string contents. Enough for the
// flat SigMF keys read here; not a general JSON parser.
bool jsonValue(const std::string &json, const std::string &key, std::string &out, bool &isString) {
    const std::string needle = "\"" + key + "\"";
    size_t p = json.find(needle);
    if (p == std::string::npos) return false;
    p = json.find(':', p + needle.size());
    if (p == std::string::npos) return false;
    p++;
    while (p < json.size() && std::isspace(static_cast<unsigned char>(json[p]))) p++;
    if (p >= json.size()) return false;
    if (json[p] == '"') {
        size_t e = json.find('"', p + 1);
        if (e == std::string::npos) return false;
        out = json.substr(p + 1, e - p - 1);
        isString = true;
        return true;
    }
    size_t e = p;
    while (e < json.size() && (std::isalnum(static_cast<unsigned char>(json[e])) || json[e] == '.' ||
                               json[e] == '-' || json[e] == '+'))
        e++;
    out = json.substr(p, e - p);
    isString = false;
    return !out.empty();
}

// One memory-mapped cf32 recording.
struct Recording {
    std::string path;   // data file
    double rate = 0.0;  // 0: unknown (raw file without rate=)
    double freq = std::nan("");
    const cf32 *data = nullptr;
    uint64_t len = 0;
    size_t mapBytes = 0;

    Recording() = default;
    Recording(const Recording &) = delete;
    Recording &operator=(const Recording &) = delete;
    ~Recording() {
        if (data != nullptr && mapBytes > 0) ::munmap(const_cast<cf32 *>(data), mapBytes);
    }
};

std::unique_ptr<Recording> openRecording(const std::string &given) {
    auto rec = std::make_unique<Recording>();
    std::string base = given;
    for (const char *ext : {".sigmf-meta", ".sigmf-data", ".sigmf"}) {
        if (endsWith(base, ext)) {
            base = base.substr(0, base.size() - std::strlen(ext));
            break;
        }
    }
    const std::string meta = base + ".sigmf-meta";
    std::string dataPath = given;
    if (fileExists(meta)) {
        std::ifstream in(meta);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string json = ss.str();
        std::string v;
        bool isStr = false;
        if (jsonValue(json, "core:datatype", v, isStr) && v != "cf32_le") {
            throw std::runtime_error("replay: " + meta + ": datatype " + v +
                                     " is not supported (cf32_le only)");
        }
        if (jsonValue(json, "core:sample_rate", v, isStr) && !isStr) rec->rate = std::stod(v);
        if (jsonValue(json, "core:frequency", v, isStr) && !isStr) rec->freq = std::stod(v);
        dataPath = base + ".sigmf-data";
        if (jsonValue(json, "core:dataset", v, isStr) && isStr && !v.empty()) {
            const size_t slash = base.find_last_of('/');
            dataPath = (slash == std::string::npos ? std::string() : base.substr(0, slash + 1)) + v;
        }
    }
    rec->path = dataPath;
    const int fd = ::open(dataPath.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("replay: cannot open " + dataPath + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    const size_t bytes = static_cast<size_t>(st.st_size);
    rec->len = bytes / sizeof(cf32);
    if (rec->len == 0) {
        ::close(fd);
        throw std::runtime_error("replay: " + dataPath + " holds no whole cf32 sample");
    }
    void *p = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error("replay: cannot map " + dataPath + ": " + std::strerror(errno));
    ::madvise(p, bytes, MADV_SEQUENTIAL);
    rec->data = static_cast<const cf32 *>(p);
    rec->mapBytes = bytes;
    return rec;
}

bool flag(const SoapySDR::Kwargs &args, const std::string &key, bool dflt) {
    auto it = args.find(key);
    if (it == args.end()) return dflt;
    return !(it->second == "0" || it->second == "false" || it->second == "no");
}

struct MapEntry {
    double freq;
    std::shared_ptr<Recording> rec;
};

class ReplayStream {};  // opaque handle; the device has one RX stream

class ReplayDevice : public SoapySDR::Device {
  public:
    explicit ReplayDevice(const SoapySDR::Kwargs &args) : args_(args) {
        auto it = args.find("file");
        if (it != args.end() && !it->second.empty()) {
            single_ = std::shared_ptr<Recording>(openRecording(it->second).release());
            fileLabel_ = it->second;
        }
        it = args.find("map");
        if (it != args.end() && !it->second.empty()) {
            std::stringstream ss(it->second);
            std::string item;
            while (std::getline(ss, item, ';')) {
                if (item.empty()) continue;
                const size_t colon = item.find(':');
                if (colon == std::string::npos)
                    throw std::runtime_error("replay: map entry '" + item + "' is not FREQ:PATH");
                MapEntry e{parseHz(item.substr(0, colon)),
                           std::shared_ptr<Recording>(openRecording(item.substr(colon + 1)).release())};
                map_.push_back(e);
            }
            fileLabel_ = it->second;
        }
        if (!single_ && map_.empty())
            throw std::runtime_error("replay: give file=PATH or map=FREQ:PATH;FREQ:PATH");
        // One rate for all recordings.
        for (const auto &r : recordings()) {
            if (r->rate > 0.0) {
                if (fileRate_ > 0.0 && std::fabs(fileRate_ - r->rate) > 1e-3)
                    throw std::runtime_error("replay: recordings have different sample rates");
                fileRate_ = r->rate;
            }
        }
        it = args.find("rate");
        if (it != args.end() && !it->second.empty()) {
            const double r = parseHz(it->second);
            if (r < RATE_MIN || r > RATE_MAX) throw std::runtime_error("replay: rate= out of range");
            if (fileRate_ > 0.0 && std::fabs(fileRate_ - r) > 1e-3)
                throw std::runtime_error("replay: rate= differs from the SigMF core:sample_rate");
            fileRate_ = r;
        }
        rate_ = fileRate_ > 0.0 ? fileRate_ : 15.36e6;
        freq_ = DEFAULT_FREQ;
        if (!map_.empty()) freq_ = map_.front().freq;
        else if (single_ && std::isfinite(single_->freq)) freq_ = single_->freq;
        it = args.find("freq");
        if (it != args.end() && !it->second.empty()) freq_ = parseHz(it->second);
        paced_ = flag(args, "paced", flag(args, "pace", true));
        loop_ = flag(args, "loop", false);
        it = args.find("buffer_ms");
        bufferMs_ = it != args.end() ? std::stod(it->second) : 250.0;
        it = args.find("noise");
        noisePower_ = it != args.end() ? std::stod(it->second) : 1.0;
        it = args.find("fail_after");
        if (it != args.end()) failAfter_ = std::stoull(it->second);
        it = args.find("cs16_scale");
        cs16Scale_ = it != args.end() ? std::stod(it->second) : 4096.0;
        for (const auto &r : recordings()) streamLen_ = std::max(streamLen_, r->len);
        noise_.resize(NOISE_LEN);
        std::mt19937_64 gen(12345);
        std::normal_distribution<float> nd(0.0f, static_cast<float>(std::sqrt(noisePower_ / 2.0)));
        for (auto &z : noise_) z = cf32(nd(gen), nd(gen));
    }

    // Identification
    std::string getDriverKey() const override { return "replay"; }
    std::string getHardwareKey() const override { return "replay"; }
    SoapySDR::Kwargs getHardwareInfo() const override {
        SoapySDR::Kwargs info;
        info["paced"] = paced_ ? "1" : "0";
        info["loop"] = loop_ ? "1" : "0";
        info["samples"] = std::to_string(streamLen_);
        return info;
    }

    // Channels and formats
    size_t getNumChannels(const int dir) const override { return dir == SOAPY_SDR_RX ? 1 : 0; }
    std::vector<std::string> getStreamFormats(const int, const size_t) const override {
        return {SOAPY_SDR_CF32, SOAPY_SDR_CS16};
    }
    std::string getNativeStreamFormat(const int, const size_t, double &fullScale) const override {
        fullScale = 1.0;
        return SOAPY_SDR_CF32;
    }

    // Antennas, gain
    std::vector<std::string> listAntennas(const int, const size_t) const override { return {"RX"}; }
    void setAntenna(const int, const size_t, const std::string &name) override {
        if (name != "RX") throw std::runtime_error("replay: no antenna '" + name + "' (only RX)");
    }
    std::string getAntenna(const int, const size_t) const override { return "RX"; }
    std::vector<std::string> listGains(const int, const size_t) const override { return {"LNA"}; }
    bool hasGainMode(const int, const size_t) const override { return true; }
    void setGainMode(const int, const size_t, const bool automatic) override { agc_ = automatic; }
    bool getGainMode(const int, const size_t) const override { return agc_; }
    void setGain(const int, const size_t, const double value) override { checkGain(value); gain_ = value; }
    void setGain(const int, const size_t, const std::string &, const double value) override {
        checkGain(value);
        gain_ = value;
    }
    double getGain(const int, const size_t) const override { return gain_; }
    double getGain(const int, const size_t, const std::string &) const override { return gain_; }
    SoapySDR::Range getGainRange(const int, const size_t) const override { return SoapySDR::Range(0, 60, 1); }
    SoapySDR::Range getGainRange(const int, const size_t, const std::string &) const override {
        return SoapySDR::Range(0, 60, 1);
    }

    // Frequency
    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF"}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override {
        return {SoapySDR::Range(FREQ_MIN, FREQ_MAX)};
    }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t, const std::string &) const override {
        return {SoapySDR::Range(FREQ_MIN, FREQ_MAX)};
    }
    void setFrequency(const int, const size_t, const double f, const SoapySDR::Kwargs &) override { tune(f); }
    void setFrequency(const int, const size_t, const std::string &, const double f,
                      const SoapySDR::Kwargs &) override {
        tune(f);
    }
    double getFrequency(const int, const size_t) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        return freq_;
    }
    double getFrequency(const int, const size_t, const std::string &) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        return freq_;
    }

    // Sample rate
    void setSampleRate(const int, const size_t, const double rate) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (fileRate_ > 0.0 && std::fabs(rate - fileRate_) > 1e-3) {
            throw std::runtime_error("replay: the recording is at " + std::to_string(fileRate_) +
                                     " S/s; no other rate is offered");
        }
        if (rate < RATE_MIN || rate > RATE_MAX) throw std::runtime_error("replay: sample rate out of range");
        if (active_) throw std::runtime_error("replay: cannot change the rate while streaming");
        rate_ = rate;
    }
    double getSampleRate(const int, const size_t) const override { return rate_; }
    std::vector<double> listSampleRates(const int, const size_t) const override {
        if (fileRate_ > 0.0) return {fileRate_};
        return {1e6, 2.048e6, 10e6, 15.36e6, 20e6, 30.72e6, 61.44e6};
    }
    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override {
        if (fileRate_ > 0.0) return {SoapySDR::Range(fileRate_, fileRate_)};
        return {SoapySDR::Range(RATE_MIN, RATE_MAX)};
    }
    SoapySDR::RangeList getBandwidthRange(const int, const size_t) const override {
        return {SoapySDR::Range(rate_, rate_)};
    }
    double getBandwidth(const int, const size_t) const override { return rate_; }

    // Time
    bool hasHardwareTime(const std::string &what) const override { return what.empty(); }
    long long getHardwareTime(const std::string &) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        return toNs(nowSample());
    }

    // Settings
    std::string readSetting(const std::string &key) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (key == "eof") return eof_ ? "true" : "false";
        if (key == "overflows") return std::to_string(overflows_);
        if (key == "samples_lost") return std::to_string(lost_);
        return "";
    }

    // Streaming
    SoapySDR::Stream *setupStream(const int dir, const std::string &format, const std::vector<size_t> &channels,
                                  const SoapySDR::Kwargs &) override {
        if (dir != SOAPY_SDR_RX) throw std::runtime_error("replay: receive only");
        if (format != SOAPY_SDR_CF32 && format != SOAPY_SDR_CS16)
            throw std::runtime_error("replay: stream format " + format + " not supported (CF32, CS16)");
        if (channels.size() > 1 || (channels.size() == 1 && channels[0] != 0))
            throw std::runtime_error("replay: one channel, number 0");
        std::lock_guard<std::mutex> lock(mutex_);
        if (streamOpen_) throw std::runtime_error("replay: the stream is already open");
        streamOpen_ = true;
        cs16_ = format == SOAPY_SDR_CS16;
        return reinterpret_cast<SoapySDR::Stream *>(&stream_);
    }
    void closeStream(SoapySDR::Stream *) override {
        std::lock_guard<std::mutex> lock(mutex_);
        streamOpen_ = false;
        active_ = false;
    }
    size_t getStreamMTU(SoapySDR::Stream *) const override { return PACKET; }
    int activateStream(SoapySDR::Stream *, const int, const long long, const size_t) override {
        std::lock_guard<std::mutex> lock(mutex_);
        active_ = true;
        t0_ = Clock::now();
        pos_ = 0;
        received_ = 0;
        segs_.clear();
        tunes_.clear();
        tunes_.push_back({0, freq_});
        eof_ = false;
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *, const int, const long long) override {
        std::lock_guard<std::mutex> lock(mutex_);
        active_ = false;
        return 0;
    }

    int readStream(SoapySDR::Stream *, void *const *buffs, const size_t numElems, int &flags, long long &timeNs,
                   const long timeoutUs) override {
        flags = 0;
        const auto deadline = Clock::now() + std::chrono::microseconds(std::max<long>(timeoutUs, 0));
        std::unique_lock<std::mutex> lock(mutex_);
        if (!active_) return SOAPY_SDR_STREAM_ERROR;
        if (pos_ >= failAfter_) {
            SoapySDR::logf(SOAPY_SDR_ERROR, "replay: device lost (fail_after=%llu)",
                           static_cast<unsigned long long>(failAfter_));
            return SOAPY_SDR_STREAM_ERROR;
        }
        if (numElems == 0) return 0;
        for (;;) {
            if (eof_ || (!loop_ && pos_ >= streamLen_)) {
                eof_ = true;
                flags |= SOAPY_SDR_END_BURST;
                return 0;
            }
            uint64_t start = pos_, count = 0;
            if (!paced_) {
                count = numElems;
                if (!loop_) count = std::min<uint64_t>(count, streamLen_ - pos_);
            } else {
                receive();
                if (segs_.empty() && !loop_ && received_ >= streamLen_ && pos_ < streamLen_) {
                    // The tail of the recording was lost to an overflow: report it, then end.
                    lost_ += streamLen_ - pos_;
                    overflows_++;
                    pos_ = streamLen_;
                    timeNs = toNs(pos_);
                    flags |= SOAPY_SDR_HAS_TIME;
                    return SOAPY_SDR_OVERFLOW;
                }
                if (!segs_.empty()) {
                    Seg &s = segs_.front();
                    if (s.start != pos_) {
                        // The device buffer overflowed: samples [pos_, s.start) never made it.
                        lost_ += s.start - pos_;
                        overflows_++;
                        pos_ = s.start;
                        timeNs = toNs(pos_);
                        flags |= SOAPY_SDR_HAS_TIME;
                        return SOAPY_SDR_OVERFLOW;
                    }
                    start = s.start;
                    count = std::min<uint64_t>(numElems, s.end - s.start);
                    s.start += count;
                    if (s.start == s.end) segs_.pop_front();
                }
            }
            if (count > 0) {
                serve(buffs[0], start, count);
                pos_ = start + count;
                timeNs = toNs(start);
                flags |= SOAPY_SDR_HAS_TIME;
                if (!loop_ && pos_ >= streamLen_) flags |= SOAPY_SDR_END_BURST;
                return static_cast<int>(count);
            }
            // Paced and nothing buffered: wait for the next packet or the deadline.
            const auto now = Clock::now();
            if (now >= deadline) return SOAPY_SDR_TIMEOUT;
            uint64_t nextPacket = (received_ / PACKET + 1) * PACKET;
            if (!loop_) nextPacket = std::min(nextPacket, streamLen_);
            const double nextAt = static_cast<double>(nextPacket) / rate_;
            auto wake = t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(nextAt));
            if (wake > deadline) wake = deadline;
            if (wake <= now) wake = now + std::chrono::microseconds(50);
            lock.unlock();
            std::this_thread::sleep_until(wake);
            lock.lock();
            if (!active_) return SOAPY_SDR_STREAM_ERROR;
        }
    }

  private:
    struct Seg {
        uint64_t start, end;  // samples [start, end) in the device buffer
    };
    struct Tune {
        uint64_t at;  // first sample received at `freq`
        double freq;
    };

    std::vector<const Recording *> recordings() const {
        std::vector<const Recording *> v;
        if (single_) v.push_back(single_.get());
        for (const auto &e : map_) v.push_back(e.rec.get());
        return v;
    }

    void checkGain(double v) const {
        if (v < 0.0 || v > 60.0) throw std::runtime_error("replay: gain out of range 0..60 dB");
    }

    long long toNs(uint64_t sample) const {
        return static_cast<long long>(std::llround(static_cast<double>(sample) * 1e9 / rate_));
    }

    // Sample index the hardware clock has reached (caller holds the lock).
    uint64_t nowSample() const {
        if (!active_) return pos_;
        if (!paced_) return pos_;
        const double el = std::chrono::duration<double>(Clock::now() - t0_).count();
        uint64_t n = static_cast<uint64_t>(el * rate_);
        if (!loop_) n = std::min(n, streamLen_);
        return n;
    }

    // Paced: moves the samples that arrived since the last call into the device buffer, as far
    // as it has room; the rest are lost (found later as a gap between segments).
    void receive() {
        uint64_t arrived = static_cast<uint64_t>(std::chrono::duration<double>(Clock::now() - t0_).count() * rate_);
        // Whole packets, except the recording's last (partial) one.
        arrived = (!loop_ && arrived >= streamLen_) ? streamLen_ : arrived / PACKET * PACKET;
        if (arrived <= received_) return;
        uint64_t buffered = 0;
        for (const auto &s : segs_) buffered += s.end - s.start;
        const uint64_t cap = std::max<uint64_t>(PACKET, static_cast<uint64_t>(bufferMs_ * 1e-3 * rate_));
        const uint64_t room = cap > buffered ? cap - buffered : 0;
        const uint64_t take = std::min(room, arrived - received_);
        if (take > 0) {
            if (!segs_.empty() && segs_.back().end == received_) segs_.back().end += take;
            else segs_.push_back({received_, received_ + take});
        }
        received_ = arrived;
    }

    // Retune: samples from the hardware clock's current position on are at `f`.
    void tune(double f) {
        if (!(f >= FREQ_MIN && f <= FREQ_MAX)) throw std::runtime_error("replay: frequency out of range");
        std::lock_guard<std::mutex> lock(mutex_);
        freq_ = f;
        if (active_) {
            const uint64_t at = paced_ ? std::max(nowSample(), received_) : pos_;
            while (!tunes_.empty() && tunes_.back().at >= at) tunes_.pop_back();
            tunes_.push_back({at, f});
        }
    }

    const Recording *recordingAt(double f) const {
        if (single_) return single_.get();
        for (const auto &e : map_)
            if (std::fabs(e.freq - f) <= MAP_TOLERANCE_HZ) return e.rec.get();
        return nullptr;
    }

    // Writes samples [start, start + count) in the stream format, split where the tuning changed.
    void serve(void *dst, uint64_t start, uint64_t count) {
        while (tunes_.size() > 1 && tunes_[1].at <= start) tunes_.erase(tunes_.begin());
        uint64_t done = 0;
        while (done < count) {
            const uint64_t k = start + done;
            size_t ti = 0;
            while (ti + 1 < tunes_.size() && tunes_[ti + 1].at <= k) ti++;
            uint64_t n = count - done;
            if (ti + 1 < tunes_.size()) n = std::min<uint64_t>(n, tunes_[ti + 1].at - k);
            const Recording *rec = recordingAt(tunes_[ti].freq);
            emitRun(dst, done, rec, k, n);
            done += n;
        }
    }

    void emitRun(void *dst, uint64_t outOff, const Recording *rec, uint64_t k, uint64_t n) {
        uint64_t i = 0;
        while (i < n) {
            const cf32 *src;
            uint64_t m;
            const uint64_t idx = k + i;
            if (rec != nullptr && (loop_ || idx < rec->len)) {
                const uint64_t off = idx % rec->len;
                src = rec->data + off;
                m = std::min<uint64_t>(n - i, rec->len - off);
            } else if (noisePower_ > 0.0) {
                const uint64_t off = idx % NOISE_LEN;
                src = noise_.data() + off;
                m = std::min<uint64_t>(n - i, NOISE_LEN - off);
            } else {
                src = nullptr;
                m = n - i;
            }
            if (cs16_) {
                int16_t *out = static_cast<int16_t *>(dst) + 2 * (outOff + i);
                for (uint64_t j = 0; j < m; j++) {
                    const cf32 z = src != nullptr ? src[j] : cf32(0.0f, 0.0f);
                    out[2 * j] = toI16(z.real());
                    out[2 * j + 1] = toI16(z.imag());
                }
            } else {
                cf32 *out = static_cast<cf32 *>(dst) + outOff + i;
                if (src != nullptr) std::memcpy(out, src, m * sizeof(cf32));
                else std::fill(out, out + m, cf32(0.0f, 0.0f));
            }
            i += m;
        }
    }

    int16_t toI16(float x) const {
        const double v = std::nearbyint(static_cast<double>(x) * cs16Scale_);
        if (!(v == v)) return 0;  // NaN
        return static_cast<int16_t>(std::clamp(v, -32768.0, 32767.0));
    }

    SoapySDR::Kwargs args_;
    std::shared_ptr<Recording> single_;
    std::vector<MapEntry> map_;
    std::string fileLabel_;
    double fileRate_ = 0.0, rate_ = 0.0, freq_ = 0.0, gain_ = 30.0, bufferMs_ = 250.0, noisePower_ = 1.0,
           cs16Scale_ = 4096.0;
    bool agc_ = false, paced_ = true, loop_ = false, cs16_ = false;
    uint64_t streamLen_ = 0;
    std::vector<cf32> noise_;

    mutable std::mutex mutex_;
    ReplayStream stream_;
    bool streamOpen_ = false, active_ = false, eof_ = false;
    Clock::time_point t0_;
    uint64_t pos_ = 0;       // next sample index the reader gets
    uint64_t received_ = 0;  // samples that have arrived at the device (paced)
    std::deque<Seg> segs_;   // device buffer (paced)
    std::deque<Tune> tunes_;
    uint64_t overflows_ = 0, lost_ = 0;
    uint64_t failAfter_ = UINT64_MAX;
};

SoapySDR::KwargsList findReplay(const SoapySDR::Kwargs &args) {
    auto d = args.find("driver");
    const bool named = d != args.end() && d->second == "replay";
    if (d != args.end() && !named) return {};
    const bool hasSource = args.count("file") > 0 || args.count("map") > 0;
    if (!named && !hasSource) return {};
    SoapySDR::Kwargs out = args;
    out["driver"] = "replay";
    std::string what = args.count("file") ? args.at("file") : (args.count("map") ? args.at("map") : "");
    if (what.empty()) {
        out["label"] = "Replay (no file= given)";
    } else {
        const size_t slash = what.find_last_of('/');
        out["label"] = "Replay " + (slash == std::string::npos ? what : what.substr(slash + 1));
    }
    if (!out.count("serial")) out["serial"] = "replay";
    return {out};
}

SoapySDR::Device *makeReplay(const SoapySDR::Kwargs &args) { return new ReplayDevice(args); }

SoapySDR::Registry registerReplay("replay", &findReplay, &makeReplay, SOAPY_SDR_ABI_VERSION);

}  // namespace
