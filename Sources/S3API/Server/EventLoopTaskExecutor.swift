import NIOCore

/// Runs a connection's task on the connection's own event loop. The request is read, handled and answered on
/// that thread: no hand-off to the global pool for each request part and back for each response write. A
/// handler's work that may wait (fsyncs, large reads) still goes to the I/O thread pool.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
