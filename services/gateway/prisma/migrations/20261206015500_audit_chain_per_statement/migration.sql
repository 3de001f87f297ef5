-- The hash chain, computed per INSERT statement rather than per row: the head is locked and
-- read once before the statement (kept in transaction-local settings while its rows are
-- chained) and written once after it. Per row, the head's SELECT … FOR UPDATE and UPDATE made
-- a new version of audit_head's one row for every audit row — most of what an audited read
-- cost PostgreSQL. Same hashes, same order across replicas (the lock is held to commit).
CREATE OR REPLACE FUNCTION audit_chain_begin() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE head audit_head;
BEGIN
  SELECT * INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
  PERFORM set_config('shouhu.audit_seq', head.seq::text, true);
  PERFORM set_config('shouhu.audit_hash', encode(head.hash, 'hex'), true);
  PERFORM set_config('shouhu.audit_head_seq', head.seq::text, true);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE prev bytea;
BEGIN
  prev := decode(current_setting('shouhu.audit_hash'), 'hex');
  NEW.seq := current_setting('shouhu.audit_seq')::bigint + 1;
  NEW.prev_hash := prev;
  NEW.hash := sha256(prev || convert_to(audit_canonical(NEW), 'UTF8'));
  PERFORM set_config('shouhu.audit_seq', NEW.seq::text, true);
  PERFORM set_config('shouhu.audit_hash', encode(NEW.hash, 'hex'), true);
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION audit_chain_end() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF current_setting('shouhu.audit_seq') <> current_setting('shouhu.audit_head_seq') THEN
    UPDATE audit_head SET seq = current_setting('shouhu.audit_seq')::bigint, hash = decode(current_setting('shouhu.audit_hash'), 'hex') WHERE id = 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER audit_entries_chain_begin BEFORE INSERT ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_begin();
CREATE TRIGGER audit_entries_chain_end AFTER INSERT ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_end();
