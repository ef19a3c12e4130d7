import PostgresNIO

/// The tables several nodes coordinate through (see ``PostgresCluster``).
extension PostgresIndex {
    static let clusterSchema: [PostgresQuery] = [
        // Bumped with every change other nodes must hear about: the fallback when a notification may have been lost.
        "CREATE TABLE cluster_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
        "INSERT INTO cluster_version (id, version) VALUES (1, 0)",
        """
        CREATE TABLE nodes (
            id text COLLATE "C" PRIMARY KEY,
            address text NOT NULL,
            version text NOT NULL,
            holder_process text,
            started_at timestamptz NOT NULL,
            heartbeat_at timestamptz NOT NULL
        )
        """,
        "CREATE TABLE leases (name text PRIMARY KEY, holder text NOT NULL, expires_at timestamptz NOT NULL)",
        // Blobs no row refers to any more, kept for a grace period because another node may still be reading them.
        "CREATE TABLE blob_graveyard (blob_id text PRIMARY KEY, freed_at timestamptz NOT NULL DEFAULT now())",
        "CREATE INDEX blob_graveyard_by_age ON blob_graveyard (freed_at)",
        // Cluster-wide facts, such as the check that every node has the master key the secrets are sealed under.
        "CREATE TABLE cluster_settings (name text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE FUNCTION announce_change(kind text, name text) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cluster_version SET version = version + 1 WHERE id = 1;
            PERFORM pg_notify('martlet_changes', kind || ':' || name);
        END $$
        """,
        """
        CREATE FUNCTION announce_bucket_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM announce_change('bucket', OLD.name);
            ELSE
                PERFORM announce_change('bucket', NEW.name);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER announce_bucket_change AFTER INSERT OR UPDATE OR DELETE ON buckets FOR EACH ROW EXECUTE FUNCTION announce_bucket_change()",
        // Wakes the delivery service on whichever node holds its lease; once per transaction (PostgreSQL folds equal
        // notifications of one transaction), and without the version, which every PUT would otherwise update.
        """
        CREATE FUNCTION announce_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('martlet_changes', 'events:');
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER announce_events AFTER INSERT ON event_outbox FOR EACH STATEMENT EXECUTE FUNCTION announce_events()",
    ]

    /// Each announcement carries the version it made, and each node records the version its caches have caught up
    /// with, so a node that changes a cached setting can wait for the others before it answers (see
    /// ``PostgresIndex/settle()``). `applied_version` is NULL for a node that has stopped serving.
    static let appliedVersionsSchema: [PostgresQuery] = [
        "ALTER TABLE nodes ADD COLUMN applied_version bigint",
        """
        CREATE OR REPLACE FUNCTION announce_change(kind text, name text) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            made bigint;
        BEGIN
            UPDATE cluster_version SET version = version + 1 WHERE id = 1 RETURNING version INTO made;
            PERFORM pg_notify('martlet_changes', made || ':' || kind || ':' || name);
        END $$
        """,
    ]
}
