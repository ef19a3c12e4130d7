import Foundation
@_spi(Fuzzing) import S3Auth

extension FuzzTarget {
    /// The policy JSON reader at the depth bounds its callers use (POST policies 4, bucket and IAM policies 8) and
    /// one far deeper, held to a CPU-time budget that grows with the input's size: a reader that is not linear (the
    /// cubic one of issue 24 took a second for 3 KB) traps here long before libFuzzer's -timeout.
    static func jsonReader(_ data: [UInt8]) {
        let (outcomes, elapsed) = parseAtEachBound(data)
        // A deeper bound never refuses what a shallower one accepts.
        if outcomes[0] && !outcomes[1] || outcomes[1] && !outcomes[2] {
            fatalError("json-reader: a deeper bound refused a document a shallower one took")
        }
        let budget = jsonBudget(bytes: data.count)
        // Over budget once may be the sanitizer's allocator at work (a 218-byte input once took 16 ms and then 0);
        // a reader that is slow on an input is slow on it every time.
        guard elapsed > budget else { return }
        let again = parseAtEachBound(data).nanoseconds
        if again > budget {
            fatalError("json-reader: \(data.count) bytes took \(again / 1000) µs of CPU twice, over the budget of \(budget / 1000) µs")
        }
    }

    private static func parseAtEachBound(_ data: [UInt8]) -> (accepted: [Bool], nanoseconds: UInt64) {
        let start = threadCPUTime()
        let accepted = [4, 8, 64].map { maxDepth in (try? JSONValue.parse(data, maxDepth: maxDepth)) != nil }
        return (accepted, threadCPUTime() - start)
    }

    /// Nanoseconds of thread CPU time for the three parses of `bytes`: 20 ms plus 10 µs a byte. Measured under ASan
    /// (release), the costliest linear documents found, 1 MB of small objects such as `[{"":0},...]`, took 0.8 to
    /// 1.5 µs a byte for the three; an unoptimized build about 1 µs. A quadratic reader on libFuzzer's 16 KB inputs
    /// would take seconds. CPU time rather than wall time, so that a busy machine does not trip it.
    static func jsonBudget(bytes: Int) -> UInt64 {
        20_000_000 + 10_000 * UInt64(bytes)
    }

    static func threadCPUTime() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
