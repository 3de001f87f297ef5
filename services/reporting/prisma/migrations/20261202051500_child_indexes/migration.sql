-- Rows follow their child when it moves village (applyChild), found by child id.
-- CreateIndex
CREATE INDEX "visit_records_child_id_idx" ON "visit_records"("child_id");

-- CreateIndex
CREATE INDEX "concerns_child_id_idx" ON "concerns"("child_id");
