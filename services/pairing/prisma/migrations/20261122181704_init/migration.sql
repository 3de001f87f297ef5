-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "sex" VARCHAR(10) NOT NULL,
    "birth_date" DATE NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "school_name" TEXT,
    "left_behind_type" VARCHAR(32) NOT NULL,
    "difficulty_categories" TEXT[],
    "risk_level" VARCHAR(10) NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "revision" INTEGER NOT NULL,
    "mentor_match_note" TEXT,
    "peer_match_note" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "helpers" (
    "id" UUID NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "name" TEXT NOT NULL,
    "sex" VARCHAR(10),
    "birth_date" DATE,
    "phone" VARCHAR(20),
    "org_unit_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "username" VARCHAR(100),
    "capacity" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "deactivated_at" TIMESTAMPTZ(3),
    "deactivation_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "helpers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pairings" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "helper_id" UUID NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "cost" INTEGER,
    "match_reason" VARCHAR(32),
    "run_id" UUID,
    "proposed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),
    "decided_by" TEXT,
    "decision_note" TEXT,
    "start_date" DATE,
    "end_date" DATE,
    "end_reason" VARCHAR(32),
    "end_note" TEXT,

    CONSTRAINT "pairings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "match_requests" (
    "township_code" VARCHAR(12) NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reason" TEXT NOT NULL,

    CONSTRAINT "match_requests_pkey" PRIMARY KEY ("township_code")
);

-- CreateTable
CREATE TABLE "match_runs" (
    "id" UUID NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "trigger" TEXT NOT NULL,
    "children" INTEGER NOT NULL,
    "proposed" INTEGER NOT NULL,
    "unmatched" INTEGER NOT NULL,
    "cost" INTEGER NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "match_runs_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "children_township_code_status_idx" ON "children"("township_code", "status");

-- CreateIndex
CREATE INDEX "children_village_code_idx" ON "children"("village_code");

-- CreateIndex
CREATE INDEX "helpers_township_code_active_idx" ON "helpers"("township_code", "active");

-- CreateIndex
CREATE INDEX "helpers_org_unit_code_idx" ON "helpers"("org_unit_code");

-- CreateIndex
CREATE INDEX "helpers_username_idx" ON "helpers"("username");

-- CreateIndex
CREATE INDEX "pairings_helper_id_status_idx" ON "pairings"("helper_id", "status");

-- CreateIndex
CREATE INDEX "pairings_child_id_status_idx" ON "pairings"("child_id", "status");

-- CreateIndex
CREATE INDEX "pairings_status_kind_idx" ON "pairings"("status", "kind");

-- CreateIndex
CREATE INDEX "match_runs_township_code_created_at_idx" ON "match_runs"("township_code", "created_at");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");

-- AddForeignKey
ALTER TABLE "pairings" ADD CONSTRAINT "pairings_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pairings" ADD CONSTRAINT "pairings_helper_id_fkey" FOREIGN KEY ("helper_id") REFERENCES "helpers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Written by hand (Prisma cannot declare partial indexes).
-- A child has at most one open (proposed or active) pairing of each kind: one
-- active mentor, one peer buddy, and never two proposals for the same need,
-- whatever the order or repetition of events and matching runs.
CREATE UNIQUE INDEX "pairings_one_open_per_child_kind" ON "pairings"("child_id", "kind") WHERE "status" IN ('proposed', 'active');
