-- CreateTable
CREATE TABLE "enrolments" (
    "child_id" UUID NOT NULL,
    "semester" VARCHAR(11) NOT NULL,
    "school_id" VARCHAR(32),
    "status" VARCHAR(16) NOT NULL,
    "grade" TEXT,
    "class_name" TEXT,
    "source" VARCHAR(8) NOT NULL,
    "import_id" UUID,
    "note" TEXT,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrolments_pkey" PRIMARY KEY ("child_id","semester")
);

-- CreateTable
CREATE TABLE "enrolment_changes" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "semester" VARCHAR(11) NOT NULL,
    "school_id" VARCHAR(32),
    "status" VARCHAR(16) NOT NULL,
    "previous_status" VARCHAR(16),
    "source" VARCHAR(8) NOT NULL,
    "import_id" UUID,
    "note" TEXT,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrolment_changes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrolment_imports" (
    "id" UUID NOT NULL,
    "school_id" VARCHAR(32) NOT NULL,
    "semester" VARCHAR(11) NOT NULL,
    "file_name" TEXT NOT NULL,
    "state" VARCHAR(10) NOT NULL,
    "rows" JSONB NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirmed_at" TIMESTAMPTZ(3),
    "confirmed_by" TEXT,

    CONSTRAINT "enrolment_imports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "enrolments_semester_school_id_idx" ON "enrolments"("semester", "school_id");

-- CreateIndex
CREATE INDEX "enrolment_changes_child_id_semester_at_idx" ON "enrolment_changes"("child_id", "semester", "at");

-- CreateIndex
CREATE INDEX "enrolment_imports_school_id_semester_idx" ON "enrolment_imports"("school_id", "semester");

-- AddForeignKey
ALTER TABLE "enrolments" ADD CONSTRAINT "enrolments_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;
