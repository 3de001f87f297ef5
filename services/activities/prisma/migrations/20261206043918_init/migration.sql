-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "county_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "birth_date" DATE,
    "status" VARCHAR(10) NOT NULL,
    "revision" INTEGER NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "org_units" (
    "code" VARCHAR(12) NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "org_units_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "sites" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "room" TEXT,
    "equipment" TEXT[],
    "opening_hours" TEXT,
    "adults" JSONB NOT NULL,
    "rules" TEXT[],
    "plan" TEXT,
    "status" VARCHAR(10) NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),

    CONSTRAINT "sites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "site_children" (
    "site_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "site_children_pkey" PRIMARY KEY ("site_id","child_id")
);

-- CreateTable
CREATE TABLE "site_events" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "changes" JSONB NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "site_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "activity_sessions" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "leader" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "recorded_by" TEXT NOT NULL,
    "recorded_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "activity_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "activity_attendance" (
    "session_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,

    CONSTRAINT "activity_attendance_pkey" PRIMARY KEY ("session_id","child_id")
);

-- CreateTable
CREATE TABLE "safety_campaigns" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "topic" VARCHAR(20) NOT NULL,
    "description" TEXT,
    "org_unit" VARCHAR(12) NOT NULL,
    "deadline" DATE NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "safety_campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "safety_reach" (
    "campaign_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "recorded_by" TEXT NOT NULL,
    "recorded_name" TEXT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "safety_reach_pkey" PRIMARY KEY ("campaign_id","child_id")
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
CREATE INDEX "children_village_code_status_idx" ON "children"("village_code", "status");

-- CreateIndex
CREATE INDEX "children_township_code_school_id_idx" ON "children"("township_code", "school_id");

-- CreateIndex
CREATE INDEX "sites_org_unit_status_idx" ON "sites"("org_unit", "status");

-- CreateIndex
CREATE INDEX "site_children_child_id_idx" ON "site_children"("child_id");

-- CreateIndex
CREATE INDEX "site_events_site_id_at_idx" ON "site_events"("site_id", "at");

-- CreateIndex
CREATE INDEX "activity_sessions_site_id_date_idx" ON "activity_sessions"("site_id", "date");

-- CreateIndex
CREATE INDEX "activity_attendance_child_id_idx" ON "activity_attendance"("child_id");

-- CreateIndex
CREATE INDEX "safety_campaigns_org_unit_idx" ON "safety_campaigns"("org_unit");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");
