import Logging
import ObjectStore
import ServiceLifecycle

extension S3Server {
    /// Forgets what this node cached about something another node changed, so the next request reads it afresh.
    public func forget(_ change: ClusterChange) async {
        switch change {
        case .bucket(let name):
            authorizer.buckets.invalidate(name)
            handlers.lifecycles.forget(name)
        case .identity(let accountID):
            await reloadIdentities(accountID)
        case .kmsKey:
            configuration.keyring.forgetKeys()
        case .everything:
            authorizer.buckets.invalidateAll()
            handlers.lifecycles.forgetAll()
            configuration.keyring.forgetKeys()
            await reloadIdentities(nil)
        }
    }

    private func reloadIdentities(_ accountID: String?) async {
        do {
            if let accountID {
                try await configuration.directory.reload(accountID: accountID)
            } else {
                try await configuration.directory.reload()
            }
        } catch {
            // The directory marks what it could not read as stale and reads it again before its next change; until
            // the index answers, requests keep what the snapshot had.
            logger.error("could not read identities changed on another node", metadata: ["error": "\(error)"])
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
            for await change in coordinator.changes() { await server.forget(change) }
        }
    }
}
