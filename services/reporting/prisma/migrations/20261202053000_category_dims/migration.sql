-- Difficulty-category counters now carry left-behind type and risk level
-- (status|category|type|risk), so reports can cross every child dimension.
-- Recomputed from this service's own child rows.
DELETE FROM "counters" WHERE "metric" = 'category';

INSERT INTO "counters" ("village_code", "metric", "dims", "n")
SELECT "village_code", 'category', "status" || '|' || cat || '|' || "left_behind_type" || '|' || "risk_level", count(*)::int
  FROM "children", unnest("categories") AS cat
 GROUP BY 1, 3;
