import Logging
import ObjectStore
import ServiceLifecycle

extension S3Server {
    /// Forgets what this node cached about something another node changed, so the next request reads it afresh.
    /// False if identities could not be read again: until they are, this node still acts on the old ones.
    @discardableResult
    public func forget(_ change: ClusterChange) async -> Bool {
        switch change {
        case .bucket(let name):
            authorizer.buckets.invalidate(name)
            handlers.lifecycles.forget(name)
            return true
        case .identity(let accountID):
            return await reloadIdentities(accountID)
        case .kmsKey:
            configuration.keyring.forgetKeys()
            return true
        case .everything:
            authorizer.buckets.invalidateAll()
            handlers.lifecycles.forgetAll()
            configuration.keyring.forgetKeys()
            return await reloadIdentities(nil)
        }
    }

    private func reloadIdentities(_ accountID: String?) async -> Bool {
        do {
            if let accountID {
                try await configuration.directory.reload(accountID: accountID)
            } else {
                try await configuration.directory.reload()
            }
            return true
        } catch {
            // The directory marks what it could not read as stale and reads it again before its next change; until
            // the index answers, requests keep what the snapshot had.
            logger.error("could not read identities changed on another node", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// A service applying every change other nodes make to this node's caches, for as long as the server runs.
    public func followClusterChanges(_ coordinator: any ClusterCoordinator) -> some Service {
        ClusterChangeFollower(server: self, coordinator: coordinator)
    }
}

private struct ClusterChangeFollower: Service {
    let server: S3Server
    let coordinator: any ClusterCoordinator

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await notice in coordinator.changes() {
                // Not acknowledged when it could not be applied: writers then wait out their bound rather than
                // answer while this node acts on what they replaced.
                if await server.forget(notice.change) { await coordinator.applied(through: notice.version) }
            }
        }
    }
}
