import Foundation
import ObjectStore
import PostgresNIO

/// The schema, as named migrations run once per database.
extension PostgresIndex {
    /// Append-only: never edit a shipped migration, add one. A database that has applied a name not listed here was
    /// migrated by a newer Martlet, and this one refuses to start against it.
    static let migrations: [(name: String, sql: [PostgresQuery])] = [
        ("v1-index", schemaV1),
        ("v2-cluster", clusterSchema),
        ("v2-identity-kms", schemaV2IdentityKMS),
        ("v3-applied-versions", appliedVersionsSchema),
    ]

    /// Applies the migrations the database lacks, under an advisory lock so that nodes starting together take turns.
    /// - Throws: ``StoreError/ioFailure(_:)`` if the database is unreachable or its schema is newer than this build's.
    public func migrate() async throws {
        try await autocommit { session in
            try await session.execute("SELECT pg_advisory_lock(\(Self.migrationLock))")
            do {
                try await self.applyMigrations(session)
                try await session.execute("SELECT pg_advisory_unlock(\(Self.migrationLock))")
            } catch {
                try? await session.execute("SELECT pg_advisory_unlock(\(Self.migrationLock))")
                throw error
            }
        }
    }

    /// An arbitrary constant ("martlet" in ASCII) that only Martlet's migrations lock.
    static let migrationLock: Int64 = 0x6d61_7274_6c65_74

    private func applyMigrations(_ session: Session) async throws {
        try await session.execute("""
            CREATE TABLE IF NOT EXISTS martlet_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let applied = Set(try await session.rows("SELECT name FROM martlet_migrations").map { try $0[0].decode(String.self) })
        let known = Set(Self.migrations.map(\.name))
        if let unknown = applied.subtracting(known).sorted().first {
            throw StoreError.ioFailure(
                "the index database was migrated by a newer Martlet (migration \(unknown)); run that version or newer")
        }
        for migration in Self.migrations where !applied.contains(migration.name) {
            try await session.execute("BEGIN")
            do {
                for statement in migration.sql { try await session.execute(statement) }
                try await session.execute("INSERT INTO martlet_migrations (name) VALUES (\(migration.name))")
                try await session.execute("COMMIT")
            } catch {
                try? await session.execute("ROLLBACK")
                throw error
            }
            logger.notice("index migrated", metadata: ["migration": "\(migration.name)"])
        }
    }

    /// Text compared for order (bucket names, upload IDs) is `COLLATE "C"`: byte order, as S3 lists them.
    /// The tables of ``SQLiteIndex`` at its v14, in PostgreSQL's types: keys `bytea` (byte order), times `bigint`
    /// milliseconds, documents `text` as ``IndexColumns`` encodes them.
    private static let schemaV1: [PostgresQuery] = [
        """
        CREATE TABLE buckets (
            name text COLLATE "C" PRIMARY KEY,
            created_at bigint NOT NULL,
            region text NOT NULL,
            versioning text,
            tags text,
            lifecycle text,
            object_lock text,
            owner text,
            policy text,
            acl text,
            ownership text,
            public_access_block text,
            cors text,
            website text,
            encryption text,
            notification text
        )
        """,
        """
        CREATE TABLE objects (
            bucket text NOT NULL,
            key bytea NOT NULL,
            size bigint NOT NULL,
            etag text NOT NULL,
            last_modified bigint NOT NULL,
            metadata text NOT NULL,
            checksum text,
            segments text NOT NULL,
            parts text,
            version_id text,
            PRIMARY KEY (bucket, key)
        )
        """,
        """
        CREATE TABLE blob_refs (
            blob_id text PRIMARY KEY,
            ref_count bigint NOT NULL CHECK (ref_count > 0)
        )
        """,
        """
        CREATE TABLE uploads (
            upload_id text COLLATE "C" PRIMARY KEY,
            bucket text NOT NULL,
            key bytea NOT NULL,
            initiated bigint NOT NULL,
            metadata text NOT NULL,
            checksum_algorithm text,
            checksum_type text
        )
        """,
        "CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id)",
        "CREATE INDEX uploads_by_initiation ON uploads (bucket, initiated)",
        """
        CREATE TABLE parts (
            upload_id text NOT NULL,
            part_number integer NOT NULL,
            size bigint NOT NULL,
            etag text NOT NULL,
            last_modified bigint NOT NULL,
            checksum text,
            segments text NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        )
        """,
        // Version sequence numbers come from one sequence: increasing within every key (a write that lost a race for
        // its key is rolled back and runs again, drawing a later number), and drawing one never conflicts.
        "CREATE SEQUENCE version_seq",
        """
        CREATE TABLE versions (
            bucket text NOT NULL,
            key bytea NOT NULL,
            seq bigint NOT NULL,
            version_id text NOT NULL,
            delete_marker boolean NOT NULL,
            size bigint NOT NULL,
            etag text NOT NULL,
            last_modified bigint NOT NULL,
            metadata text NOT NULL,
            checksum text,
            segments text NOT NULL,
            parts text,
            PRIMARY KEY (bucket, key, seq)
        )
        """,
        "CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id)",
        """
        CREATE TABLE lifecycle_due (
            due_at bigint NOT NULL,
            bucket text NOT NULL,
            key bytea NOT NULL,
            PRIMARY KEY (due_at, bucket, key)
        )
        """,
        """
        CREATE TABLE completed_uploads (
            upload_id text PRIMARY KEY,
            bucket text NOT NULL,
            key bytea NOT NULL,
            fingerprint text NOT NULL,
            etag text NOT NULL,
            checksum text,
            version_id text,
            completed_at bigint NOT NULL
        )
        """,
        "CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at)",
        """
        CREATE TABLE event_outbox (
            seq bigserial PRIMARY KEY,
            target text NOT NULL,
            event text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt bigint NOT NULL DEFAULT 0,
            failed boolean NOT NULL DEFAULT false,
            last_error text
        )
        """,
        "CREATE INDEX event_outbox_by_state ON event_outbox (failed, seq)",
        // Usage: every change appends a delta row (an insert never waits for another transaction, where one counter
        // row per bucket would make every PUT in a bucket queue behind the last); readers fold the deltas into
        // `bucket_usage` as they go.
        """
        CREATE TABLE bucket_usage (
            bucket text PRIMARY KEY,
            current_objects bigint NOT NULL DEFAULT 0,
            current_bytes bigint NOT NULL DEFAULT 0,
            version_objects bigint NOT NULL DEFAULT 0,
            version_bytes bigint NOT NULL DEFAULT 0,
            uploads bigint NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE usage_deltas (
            seq bigserial PRIMARY KEY,
            bucket text NOT NULL,
            current_objects bigint NOT NULL DEFAULT 0,
            current_bytes bigint NOT NULL DEFAULT 0,
            version_objects bigint NOT NULL DEFAULT 0,
            version_bytes bigint NOT NULL DEFAULT 0,
            uploads bigint NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE FUNCTION usage_objects() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO usage_deltas (bucket, current_objects, current_bytes) VALUES (NEW.bucket, 1, NEW.size);
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                INSERT INTO usage_deltas (bucket, current_objects, current_bytes) VALUES (OLD.bucket, -1, -OLD.size);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER usage_objects AFTER INSERT OR UPDATE OF size OR DELETE ON objects FOR EACH ROW EXECUTE FUNCTION usage_objects()",
        """
        CREATE FUNCTION usage_versions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') AND NOT NEW.delete_marker THEN
                INSERT INTO usage_deltas (bucket, version_objects, version_bytes) VALUES (NEW.bucket, 1, NEW.size);
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') AND NOT OLD.delete_marker THEN
                INSERT INTO usage_deltas (bucket, version_objects, version_bytes) VALUES (OLD.bucket, -1, -OLD.size);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER usage_versions AFTER INSERT OR UPDATE OF size, delete_marker OR DELETE ON versions FOR EACH ROW EXECUTE FUNCTION usage_versions()",
        """
        CREATE FUNCTION usage_uploads() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO usage_deltas (bucket, uploads) VALUES (NEW.bucket, 1);
            ELSE
                INSERT INTO usage_deltas (bucket, uploads) VALUES (OLD.bucket, -1);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER usage_uploads AFTER INSERT OR DELETE ON uploads FOR EACH ROW EXECUTE FUNCTION usage_uploads()",
    ]
}

extension PostgresIndex {
    /// Accounts, IAM users, access keys, users' inline policies and the key service's keys: ``SQLiteIndex``'s tables
    /// as its v14 left them (keys owned by accounts, aliases unique per account), in PostgreSQL's types. Text listed in
    /// order is `COLLATE "C"`. IAM user names are unique in an account whatever their case (SQLite's NOCASE): a unique
    /// index on `lower(name)`, which under "C" folds ASCII letters alone, as NOCASE does. The primary keys mirror
    /// SQLite's, so each table has a replica identity for logical replication.
    static let schemaV2IdentityKMS: [PostgresQuery] = [
        """
        CREATE TABLE accounts (
            id text COLLATE "C" PRIMARY KEY,
            canonical_id text NOT NULL UNIQUE,
            name text COLLATE "C" NOT NULL UNIQUE,
            display_name text NOT NULL,
            email text,
            created_at bigint NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            is_operator boolean NOT NULL DEFAULT false
        )
        """,
        // Two nodes bootstrapping an empty database at once make one operator, not two.
        "CREATE UNIQUE INDEX accounts_one_operator ON accounts (is_operator) WHERE is_operator",
        """
        CREATE TABLE iam_users (
            account_id text COLLATE "C" NOT NULL,
            name text COLLATE "C" NOT NULL,
            user_id text NOT NULL UNIQUE,
            path text NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (account_id, name)
        )
        """,
        "CREATE UNIQUE INDEX iam_users_by_folded_name ON iam_users (account_id, lower(name))",
        // user_name '' is the account's root. The secret is sealed (AES-256-GCM) under the master key.
        """
        CREATE TABLE access_keys (
            id text COLLATE "C" PRIMARY KEY,
            account_id text COLLATE "C" NOT NULL,
            user_name text COLLATE "C" NOT NULL,
            sealed_secret bytea NOT NULL,
            active boolean NOT NULL,
            created_at bigint NOT NULL
        )
        """,
        "CREATE INDEX access_keys_by_owner ON access_keys (account_id, lower(user_name))",
        """
        CREATE TABLE user_policies (
            account_id text COLLATE "C" NOT NULL,
            user_name text COLLATE "C" NOT NULL,
            policy_name text COLLATE "C" NOT NULL,
            document text NOT NULL,
            PRIMARY KEY (account_id, user_name, policy_name)
        )
        """,
        "CREATE UNIQUE INDEX user_policies_by_folded_user ON user_policies (account_id, lower(user_name), policy_name)",
        // Material sealed under the master key.
        """
        CREATE TABLE kms_keys (
            id text COLLATE "C" PRIMARY KEY,
            account_id text COLLATE "C" NOT NULL,
            alias text COLLATE "C",
            description text NOT NULL,
            created_at bigint NOT NULL,
            enabled boolean NOT NULL,
            material bytea NOT NULL,
            policy text NOT NULL,
            UNIQUE (account_id, alias)
        )
        """,
        // Every change is announced (announce_change, from v2-cluster) in the transaction that commits it, so the
        // other nodes reload that account's identities (identityRecords(accountID:)) or forget that key.
        """
        CREATE FUNCTION announce_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM announce_change('identity', OLD.id);
            ELSE
                PERFORM announce_change('identity', NEW.id);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER announce_account_change AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION announce_account_change()",
        """
        CREATE FUNCTION announce_identity_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM announce_change('identity', OLD.account_id);
            ELSE
                PERFORM announce_change('identity', NEW.account_id);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER announce_identity_change AFTER INSERT OR UPDATE OR DELETE ON iam_users FOR EACH ROW EXECUTE FUNCTION announce_identity_change()",
        "CREATE TRIGGER announce_identity_change AFTER INSERT OR UPDATE OR DELETE ON access_keys FOR EACH ROW EXECUTE FUNCTION announce_identity_change()",
        "CREATE TRIGGER announce_identity_change AFTER INSERT OR UPDATE OR DELETE ON user_policies FOR EACH ROW EXECUTE FUNCTION announce_identity_change()",
        """
        CREATE FUNCTION announce_kms_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM announce_change('kms', OLD.id);
            ELSE
                PERFORM announce_change('kms', NEW.id);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER announce_kms_change AFTER INSERT OR UPDATE OR DELETE ON kms_keys FOR EACH ROW EXECUTE FUNCTION announce_kms_change()",
    ]
}
