import GRDB

/// The index's schema, as the migrations that build it.
extension SQLiteIndex {
    /// The schema, one named migration per change. Never edit a shipped migration: append a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-buckets-objects") { db in
            try db.execute(
                sql: """
                    CREATE TABLE buckets (
                        name TEXT NOT NULL PRIMARY KEY,
                        created_at INTEGER NOT NULL,
                        region TEXT NOT NULL
                    ) STRICT;
                    -- The current record of each key. Versioning will add a table of noncurrent versions keyed
                    -- (bucket, key, version order), leaving this one the single lookup for "the latest".
                    CREATE TABLE objects (
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified INTEGER NOT NULL,
                        metadata TEXT NOT NULL,
                        checksum TEXT,
                        segments TEXT NOT NULL,
                        PRIMARY KEY (bucket, key)
                    ) WITHOUT ROWID, STRICT;
                    CREATE TABLE blob_refs (
                        blob_id TEXT NOT NULL PRIMARY KEY,
                        ref_count INTEGER NOT NULL CHECK (ref_count > 0)
                    ) WITHOUT ROWID, STRICT;
                    """
            )
        }
        migrator.registerMigration("v2-multipart") { db in
            try db.execute(
                sql: """
                    -- The parts of a completed multipart object (JSON), for ?partNumber= and GetObjectAttributes.
                    ALTER TABLE objects ADD COLUMN parts TEXT;
                    CREATE TABLE uploads (
                        upload_id TEXT NOT NULL PRIMARY KEY,
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        initiated INTEGER NOT NULL,
                        metadata TEXT NOT NULL,
                        checksum_algorithm TEXT,
                        checksum_type TEXT
                    ) STRICT;
                    -- ListMultipartUploads order: key, then upload ID, which starts with the creation time.
                    CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id);
                    CREATE TABLE parts (
                        upload_id TEXT NOT NULL REFERENCES uploads(upload_id),
                        part_number INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified INTEGER NOT NULL,
                        checksum TEXT,
                        segments TEXT NOT NULL,
                        PRIMARY KEY (upload_id, part_number)
                    ) WITHOUT ROWID, STRICT;
                    """
            )
        }
        migrator.registerMigration("v3-versioning") { db in
            try db.execute(
                sql: """
                    ALTER TABLE buckets ADD COLUMN versioning TEXT;
                    -- The current object's version ID; NULL for the null version.
                    ALTER TABLE objects ADD COLUMN version_id TEXT;
                    -- Every version of every key of a bucket that has had versioning, newest first within a key,
                    -- so ListObjectVersions is one seek; the current object is also in `objects`.
                    CREATE TABLE versions (
                        bucket TEXT NOT NULL REFERENCES buckets(name),
                        key BLOB NOT NULL,
                        seq INTEGER NOT NULL,
                        version_id TEXT NOT NULL,
                        delete_marker INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        etag TEXT NOT NULL,
                        last_modified INTEGER NOT NULL,
                        metadata TEXT NOT NULL,
                        checksum TEXT,
                        segments TEXT NOT NULL,
                        parts TEXT,
                        PRIMARY KEY (bucket, key, seq DESC)
                    ) WITHOUT ROWID, STRICT;
                    CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);
                    """
            )
        }
        migrator.registerMigration("v4-bucket-tags") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN tags TEXT")
        }
        migrator.registerMigration("v5-lifecycle") { db in
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN lifecycle TEXT")
        }
        migrator.registerMigration("v6-lifecycle-queue") { db in
            try db.execute(
                sql: """
                    -- Keys the lifecycle service must look at, by due time (milliseconds): a pass reads only what
                    -- is due. Entries for one key at the same time collapse into one.
                    CREATE TABLE lifecycle_due (
                        due_at INTEGER NOT NULL,
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        PRIMARY KEY (due_at, bucket, key)
                    ) WITHOUT ROWID, STRICT;
                    CREATE INDEX uploads_by_initiation ON uploads (bucket, initiated);
                    """)
        }
        migrator.registerMigration("v7-object-lock") { db in
            // JSON of the bucket's ObjectLockConfiguration; NULL where object lock is not enabled.
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN object_lock TEXT")
        }
        migrator.registerMigration("v8-completed-uploads") { db in
            try db.execute(
                sql: """
                    -- What each CompleteMultipartUpload of the last day answered, for a client's retry.
                    CREATE TABLE completed_uploads (
                        upload_id TEXT NOT NULL PRIMARY KEY,
                        bucket TEXT NOT NULL,
                        key BLOB NOT NULL,
                        fingerprint TEXT NOT NULL,
                        etag TEXT NOT NULL,
                        checksum TEXT,
                        version_id TEXT,
                        completed_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at);
                    """)
        }
        migrator.registerMigration("v9-accounts") { db in
            try db.execute(
                sql: """
                    -- Who owns each bucket (an account id); NULL for buckets from before accounts, until the
                    -- operator's account adopts them at start-up. The bucket policy's JSON text.
                    ALTER TABLE buckets ADD COLUMN owner TEXT;
                    ALTER TABLE buckets ADD COLUMN policy TEXT;
                    -- JSON of the bucket's ACL, Object Ownership and Block Public Access settings.
                    ALTER TABLE buckets ADD COLUMN acl TEXT;
                    ALTER TABLE buckets ADD COLUMN ownership TEXT;
                    ALTER TABLE buckets ADD COLUMN public_access_block TEXT;
                    CREATE TABLE accounts (
                        id TEXT NOT NULL PRIMARY KEY,
                        canonical_id TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL UNIQUE,
                        display_name TEXT NOT NULL,
                        email TEXT,
                        created_at INTEGER NOT NULL,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        is_operator INTEGER NOT NULL DEFAULT 0
                    ) STRICT;
                    -- IAM user names are unique in an account regardless of case, as on AWS.
                    CREATE TABLE iam_users (
                        account_id TEXT NOT NULL,
                        name TEXT NOT NULL COLLATE NOCASE,
                        user_id TEXT NOT NULL UNIQUE,
                        path TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (account_id, name)
                    ) STRICT;
                    -- user_name '' is the account's root. The secret is sealed (AES-256-GCM) under the server key.
                    CREATE TABLE access_keys (
                        id TEXT NOT NULL PRIMARY KEY,
                        account_id TEXT NOT NULL,
                        user_name TEXT NOT NULL COLLATE NOCASE,
                        sealed_secret BLOB NOT NULL,
                        active INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX access_keys_by_owner ON access_keys (account_id, user_name);
                    CREATE TABLE user_policies (
                        account_id TEXT NOT NULL,
                        user_name TEXT NOT NULL COLLATE NOCASE,
                        policy_name TEXT NOT NULL,
                        document TEXT NOT NULL,
                        PRIMARY KEY (account_id, user_name, policy_name)
                    ) STRICT;
                    """)
        }
        migrator.registerMigration("v10-cors") { db in
            // JSON of the bucket's CORS rules; NULL where it has none.
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN cors TEXT")
        }
        migrator.registerMigration("v11-website") { db in
            // JSON of the bucket's website configuration; NULL where it is not a website.
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN website TEXT")
        }
        migrator.registerMigration("v12-encryption") { db in
            // JSON of the bucket's default encryption; NULL where it has none.
            try db.execute(sql: "ALTER TABLE buckets ADD COLUMN encryption TEXT")
            // The key service's keys; material sealed under the master key.
            try db.execute(sql: """
                CREATE TABLE kms_keys (
                    id TEXT PRIMARY KEY,
                    alias TEXT UNIQUE,
                    description TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    enabled INTEGER NOT NULL,
                    material BLOB NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v13-notifications-usage") { db in
            try db.execute(sql: Self.notificationsSchema)
        }
        migrator.registerMigration("v14-kms-key-owners") { db in
            try Self.giveKMSKeysOwners(db)
        }
        return migrator
    }
}
