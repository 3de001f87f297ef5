-- CreateTable
CREATE TABLE "org_units" (
    "code" VARCHAR(12) NOT NULL,
    "name" TEXT NOT NULL,
    "level" VARCHAR(10) NOT NULL,
    "parent_code" VARCHAR(12),

    CONSTRAINT "org_units_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "schools" (
    "id" VARCHAR(32) NOT NULL,
    "name" TEXT NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,

    CONSTRAINT "schools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "id_number" VARCHAR(18) NOT NULL,
    "name" TEXT NOT NULL,
    "sex" VARCHAR(6) NOT NULL,
    "birth_date" DATE NOT NULL,
    "ethnicity" TEXT NOT NULL DEFAULT '汉族',
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "county_code" VARCHAR(12) NOT NULL,
    "address" TEXT,
    "school_id" VARCHAR(32),
    "grade" TEXT,
    "class_name" TEXT,
    "left_behind_type" VARCHAR(32) NOT NULL,
    "difficulty_categories" TEXT[],
    "risk_level" VARCHAR(8) NOT NULL DEFAULT 'low',
    "status" VARCHAR(8) NOT NULL DEFAULT 'active',
    "exit_reason" VARCHAR(20),
    "exit_note" TEXT,
    "exited_at" DATE,
    "family_situation" TEXT,
    "health_notes" TEXT,
    "psychological_notes" TEXT,
    "helper_name" TEXT,
    "remarks" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "import_batch_id" UUID,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "guardians" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "name" TEXT NOT NULL,
    "relation" TEXT NOT NULL,
    "phone" TEXT,
    "age" INTEGER,
    "health" TEXT,

    CONSTRAINT "guardians_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "parents" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "role" VARCHAR(6) NOT NULL,
    "name" TEXT,
    "phone" TEXT,
    "work_province" TEXT,
    "work_city" TEXT,
    "employer" TEXT,
    "away_since" VARCHAR(7),

    CONSTRAINT "parents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "child_history" (
    "id" BIGSERIAL NOT NULL,
    "child_id" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "actor_role" TEXT,
    "reason" TEXT,
    "changes" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "child_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_batches" (
    "id" UUID NOT NULL,
    "file_sha256" VARCHAR(64) NOT NULL,
    "file_name" TEXT NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "status" VARCHAR(12) NOT NULL,
    "total_rows" INTEGER NOT NULL DEFAULT 0,
    "processed_rows" INTEGER NOT NULL DEFAULT 0,
    "accepted_rows" INTEGER NOT NULL DEFAULT 0,
    "rejected_rows" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_by" TEXT NOT NULL,
    "created_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "import_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_files" (
    "batch_id" UUID NOT NULL,
    "content" BYTEA NOT NULL,

    CONSTRAINT "import_files_pkey" PRIMARY KEY ("batch_id")
);

-- CreateTable
CREATE TABLE "import_rejections" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" UUID NOT NULL,
    "sheet" TEXT NOT NULL,
    "row_number" INTEGER NOT NULL,
    "name" TEXT,
    "id_number" TEXT,
    "reasons" TEXT[],
    "existing_child_id" UUID,

    CONSTRAINT "import_rejections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "export_jobs" (
    "id" UUID NOT NULL,
    "status" VARCHAR(12) NOT NULL,
    "filters" JSONB NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "total_rows" INTEGER NOT NULL DEFAULT 0,
    "done_rows" INTEGER NOT NULL DEFAULT 0,
    "content" BYTEA,
    "error" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "export_jobs_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "org_units_parent_code_idx" ON "org_units"("parent_code");

-- CreateIndex
CREATE UNIQUE INDEX "schools_township_code_name_key" ON "schools"("township_code", "name");

-- CreateIndex
CREATE UNIQUE INDEX "children_id_number_key" ON "children"("id_number");

-- CreateIndex
CREATE INDEX "children_village_code_status_idx" ON "children"("village_code", "status");

-- CreateIndex
CREATE INDEX "children_township_code_status_idx" ON "children"("township_code", "status");

-- CreateIndex
CREATE INDEX "children_school_id_idx" ON "children"("school_id");

-- CreateIndex
CREATE INDEX "children_status_birth_date_idx" ON "children"("status", "birth_date");

-- CreateIndex
CREATE INDEX "guardians_child_id_idx" ON "guardians"("child_id");

-- CreateIndex
CREATE UNIQUE INDEX "parents_child_id_role_key" ON "parents"("child_id", "role");

-- CreateIndex
CREATE UNIQUE INDEX "child_history_child_id_revision_key" ON "child_history"("child_id", "revision");

-- CreateIndex
CREATE UNIQUE INDEX "import_batches_file_sha256_org_unit_key" ON "import_batches"("file_sha256", "org_unit");

-- CreateIndex
CREATE UNIQUE INDEX "import_rejections_batch_id_sheet_row_number_key" ON "import_rejections"("batch_id", "sheet", "row_number");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");

-- AddForeignKey
ALTER TABLE "org_units" ADD CONSTRAINT "org_units_parent_code_fkey" FOREIGN KEY ("parent_code") REFERENCES "org_units"("code") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schools" ADD CONSTRAINT "schools_township_code_fkey" FOREIGN KEY ("township_code") REFERENCES "org_units"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "children" ADD CONSTRAINT "children_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "schools"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "guardians" ADD CONSTRAINT "guardians_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "parents" ADD CONSTRAINT "parents_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "child_history" ADD CONSTRAINT "child_history_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_files" ADD CONSTRAINT "import_files_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "import_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_rejections" ADD CONSTRAINT "import_rejections_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "import_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
