#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Every connection is a file descriptor, and the index, blobs and listeners need some more.
enum FileDescriptorLimit {
    /// Descriptors kept for everything but connections.
    static let reserve = 256

    /// Raises the soft descriptor limit as far as the hard limit allows for `connections`, and returns how many
    /// connections fit under the limit that results.
    static func raise(toServe connections: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return connections }
        let wanted = rlim_t(connections + reserve)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let fitting = Int(limit.rlim_cur) - reserve
        guard fitting < connections else { return connections }
        logger.warning("the file descriptor limit (\(limit.rlim_cur)) allows \(max(fitting, 1)) connections, not \(connections)")
        return max(fitting, 1)
    }
}
