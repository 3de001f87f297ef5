-- The helper of each pairing, so a work summary can count the helpers engaged (NULL for pairings
-- projected before this column; filled by their next event or a rebuild).
ALTER TABLE "pairings" ADD COLUMN "helper_id" UUID;
