-- AlterTable
ALTER TABLE "audit_entries" ADD COLUMN     "client_request_id" VARCHAR(128),
ADD COLUMN     "hash" BYTEA,
ADD COLUMN     "outcome" VARCHAR(10) NOT NULL DEFAULT 'allowed',
ADD COLUMN     "prev_hash" BYTEA,
ADD COLUMN     "seq" BIGINT,
ADD COLUMN     "source_ip" VARCHAR(45);

-- CreateTable
CREATE TABLE "audit_head" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_head_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_anchors" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_seq" BIGINT NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "last_hash" BYTEA NOT NULL,
    "rows" BIGINT NOT NULL,
    "file_name" TEXT NOT NULL,
    "file_sha256" CHAR(64) NOT NULL,

    CONSTRAINT "audit_anchors_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_entries_seq_key" ON "audit_entries"("seq");

-- ── The hash chain (hand-written: Prisma cannot declare functions or triggers) ───────────
-- Each row's hash = sha256(previous row's hash || its canonical text); seq orders the chain.
-- Computed here, under audit_head's row lock, so several gateway replicas append in one
-- order; `npm run audit:verify` recomputes it from the rows (services/gateway/src/audit/chain.ts).
CREATE FUNCTION audit_canonical(e audit_entries) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws(E'\x1f', e.seq::text, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), e.user_id, e.username,
    coalesce(array_to_string(e.roles, ','), ''), e.org_unit, e.action, e.outcome, coalesce(array_to_string(e.child_ids, ','), ''),
    e.method, e.path, e.status::text, e.request_id, coalesce(e.client_request_id, ''), coalesce(e.source_ip, ''))
$$;

INSERT INTO "audit_head" ("id", "seq", "hash") VALUES (1, 0, sha256(convert_to('shouhu-audit-genesis', 'UTF8')));

-- Rows written before the chain existed join it in id order.
DO $$
DECLARE r audit_entries; h bytea := sha256(convert_to('shouhu-audit-genesis', 'UTF8')); n bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_entries ORDER BY id LOOP
    n := n + 1;
    r.seq := n;
    UPDATE audit_entries SET seq = n, prev_hash = h, hash = sha256(h || convert_to(audit_canonical(r), 'UTF8')) WHERE id = r.id
      RETURNING hash INTO h;
  END LOOP;
  UPDATE audit_head SET seq = n, hash = h WHERE id = 1;
END $$;

CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE head audit_head;
BEGIN
  SELECT * INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
  NEW.seq := head.seq + 1;
  NEW.prev_hash := head.hash;
  NEW.hash := sha256(head.hash || convert_to(audit_canonical(NEW), 'UTF8'));
  UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_entries_chain BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_chain();

-- ── Append-only ──────────────────────────────────────────────────────────────────────────
-- The runtime role (shouhu_gateway_app) holds only SELECT and INSERT; these triggers stop
-- the owner too. Only audit_archive_cut (below) deletes, and only archived, expired rows.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('shouhu.audit_archiving', true) = 'on' THEN RETURN OLD; END IF;
  RAISE EXCEPTION 'audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_append_only BEFORE DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- Archiving: the rows through p_last_seq, already written to an archive file whose sha256 is
-- given, are replaced by one anchor row (the chain continues from its last_hash). Refused for
-- rows younger than the retention, and for a retention under 180 days (MLPS level 3).
CREATE FUNCTION audit_archive_cut(p_last_seq bigint, p_file_name text, p_file_sha256 text, p_retention interval)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE n bigint; first_seq bigint; newest timestamptz; last_hash bytea;
BEGIN
  IF p_retention < interval '180 days' THEN RAISE EXCEPTION 'retention % is under 180 days', p_retention; END IF;
  SELECT count(*), min(seq), max(at) INTO n, first_seq, newest FROM audit_entries WHERE seq <= p_last_seq;
  IF n = 0 THEN RETURN 0; END IF;
  IF newest > now() - p_retention THEN RAISE EXCEPTION 'rows through seq % include some younger than %', p_last_seq, p_retention; END IF;
  SELECT hash INTO last_hash FROM audit_entries WHERE seq = p_last_seq;
  IF last_hash IS NULL THEN RAISE EXCEPTION 'no row with seq %', p_last_seq; END IF;
  INSERT INTO audit_anchors (first_seq, last_seq, last_hash, rows, file_name, file_sha256) VALUES (first_seq, p_last_seq, last_hash, n, p_file_name, p_file_sha256);
  PERFORM set_config('shouhu.audit_archiving', 'on', true);
  DELETE FROM audit_entries WHERE seq <= p_last_seq;
  PERFORM set_config('shouhu.audit_archiving', 'off', true);
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION audit_archive_cut(bigint, text, text, interval) FROM PUBLIC;
-- The runtime role's grants are given at start-up (src/audit/grants.ts), whenever the role exists.
