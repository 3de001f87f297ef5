-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "sex" VARCHAR(10) NOT NULL,
    "birth_date" DATE NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32),
    "status" VARCHAR(10) NOT NULL,
    "guardian_name" TEXT,
    "guardian_phone" VARCHAR(20),
    "revision" INTEGER NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mentors" (
    "child_id" UUID NOT NULL,
    "pairing_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "phone" VARCHAR(20),
    "username" VARCHAR(100),

    CONSTRAINT "mentors_pkey" PRIMARY KEY ("child_id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "org_units" TEXT[],
    "start_date" DATE NOT NULL,
    "end_date" DATE NOT NULL,
    "provider" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "exams" (
    "id" UUID NOT NULL,
    "campaign_id" UUID,
    "child_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "examiner" TEXT NOT NULL,
    "height_cm" DECIMAL(5,1),
    "weight_kg" DECIMAL(5,1),
    "vision_left" DECIMAL(2,1),
    "vision_right" DECIMAL(2,1),
    "hemoglobin" INTEGER,
    "caries" INTEGER,
    "bp_systolic" INTEGER,
    "bp_diastolic" INTEGER,
    "notes" TEXT,
    "bmi" DECIMAL(4,1),
    "flags" JSONB NOT NULL,
    "recorded_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "exams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "follow_ups" (
    "id" UUID NOT NULL,
    "exam_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(30) NOT NULL,
    "label" TEXT NOT NULL,
    "owner" VARCHAR(100),
    "owner_name" TEXT,
    "status" VARCHAR(10) NOT NULL,
    "closed_by" TEXT,
    "referral" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "follow_ups_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "exams_child_id_date_idx" ON "exams"("child_id", "date");

-- CreateIndex
CREATE UNIQUE INDEX "exams_campaign_id_child_id_key" ON "exams"("campaign_id", "child_id");

-- CreateIndex
CREATE INDEX "follow_ups_child_id_kind_status_idx" ON "follow_ups"("child_id", "kind", "status");

-- CreateIndex
CREATE INDEX "follow_ups_village_code_status_idx" ON "follow_ups"("village_code", "status");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");
