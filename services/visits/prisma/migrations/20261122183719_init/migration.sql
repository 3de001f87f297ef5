-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "county_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "status" VARCHAR(10) NOT NULL,
    "revision" INTEGER NOT NULL,
    "since" DATE NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "assignments" (
    "child_id" UUID NOT NULL,
    "pairing_id" UUID NOT NULL,
    "helper_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "phone" VARCHAR(20),
    "username" VARCHAR(100),
    "since" DATE NOT NULL,

    CONSTRAINT "assignments_pkey" PRIMARY KEY ("child_id")
);

-- CreateTable
CREATE TABLE "rule_sets" (
    "county_code" VARCHAR(12) NOT NULL,
    "rules" JSONB NOT NULL,
    "calendar" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "rule_sets_pkey" PRIMARY KEY ("county_code")
);

-- CreateTable
CREATE TABLE "due_items" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "period_key" VARCHAR(16) NOT NULL,
    "period_start" DATE NOT NULL,
    "period_end" DATE NOT NULL,
    "due_date" DATE NOT NULL,
    "remind_on" DATE NOT NULL,
    "escalate_on" DATE NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "record_id" UUID,
    "done_on" DATE,
    "reminded_at" TIMESTAMPTZ(3),
    "overdue_notified_at" TIMESTAMPTZ(3),
    "escalated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "due_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "visit_records" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "date" DATE NOT NULL,
    "visitor_user_id" TEXT NOT NULL,
    "visitor_name" TEXT NOT NULL,
    "location" TEXT,
    "duration_minutes" INTEGER,
    "findings" JSONB NOT NULL,
    "follow_up_needed" BOOLEAN NOT NULL,
    "follow_up_note" TEXT,
    "item_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "visit_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "concerns" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "record_id" UUID,
    "category" VARCHAR(20) NOT NULL,
    "description" TEXT NOT NULL,
    "status" VARCHAR(15) NOT NULL,
    "owner_org_unit" VARCHAR(12) NOT NULL,
    "owner_username" VARCHAR(100),
    "raised_by" TEXT NOT NULL,
    "raised_by_name" TEXT NOT NULL,
    "raised_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),
    "resolution" TEXT,
    "escalated_at" TIMESTAMPTZ(3),

    CONSTRAINT "concerns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "concern_notes" (
    "id" UUID NOT NULL,
    "concern_id" UUID NOT NULL,
    "author_id" TEXT NOT NULL,
    "author_name" TEXT NOT NULL,
    "status" VARCHAR(15),
    "note" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "concern_notes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "org_unit" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "publish_attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "event_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "children_county_code_status_idx" ON "children"("county_code", "status");

-- CreateIndex
CREATE INDEX "children_village_code_idx" ON "children"("village_code");

-- CreateIndex
CREATE INDEX "assignments_username_idx" ON "assignments"("username");

-- CreateIndex
CREATE INDEX "assignments_helper_id_idx" ON "assignments"("helper_id");

-- CreateIndex
CREATE INDEX "due_items_status_remind_on_idx" ON "due_items"("status", "remind_on");

-- CreateIndex
CREATE INDEX "due_items_status_due_date_idx" ON "due_items"("status", "due_date");

-- CreateIndex
CREATE INDEX "due_items_status_escalate_on_idx" ON "due_items"("status", "escalate_on");

-- CreateIndex
CREATE UNIQUE INDEX "due_items_child_id_kind_period_key_key" ON "due_items"("child_id", "kind", "period_key");

-- CreateIndex
CREATE INDEX "visit_records_child_id_date_idx" ON "visit_records"("child_id", "date");

-- CreateIndex
CREATE INDEX "concerns_status_raised_at_idx" ON "concerns"("status", "raised_at");

-- CreateIndex
CREATE INDEX "concerns_child_id_idx" ON "concerns"("child_id");

-- CreateIndex
CREATE INDEX "concern_notes_concern_id_idx" ON "concern_notes"("concern_id");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");

-- AddForeignKey
ALTER TABLE "concern_notes" ADD CONSTRAINT "concern_notes_concern_id_fkey" FOREIGN KEY ("concern_id") REFERENCES "concerns"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
