#if canImport(Glibc)
import CMartletSystem
import Glibc
#endif
import ServiceLifecycle

/// Gives freed memory back to the system. glibc keeps freed heap pages for reuse: after a burst (thousands of
/// connections, a large request document) the process would otherwise stay at its peak size for good.
struct MemoryRelease: Service {
    var interval: Duration = .seconds(5)

    /// Large blocks (request documents, body buffers) get their own mappings, returned to the system when
    /// freed. glibc would otherwise raise this threshold after the first large free and serve later large
    /// blocks from the heap, where they stay.
    static func configureAllocator() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        _ = mallopt(M_TRIM_THRESHOLD, 1024 * 1024)
        #endif
    }

    func run() async throws {
        #if canImport(Glibc)
        await cancelWhenGracefulShutdown {
            while true {
                do { try await Task.sleep(for: interval) } catch { return }  // cancelled: the server is stopping
                _ = malloc_trim(0)
            }
        }
        #endif
    }
}
