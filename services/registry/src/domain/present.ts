import { applyLevel, type ChildView } from "@shouhu/auth";
import type { ChildRecord, GuardianRecord, ParentRecord } from "./child-record.js";

/**
 * A child as the caller may see it: each part of the file as the need-to-know table
 * (`childView` in @shouhu/auth) resolves it for the caller's roles and their relation
 * to the child. Withheld values are null (or an empty list); masked ones keep their
 * shape (138****0001, 360999************). Nothing here decides who sees what.
 */
export function presentChild(child: ChildRecord, view: ChildView): ChildRecord {
  const guardians: GuardianRecord[] =
    view.guardianName === "none"
      ? []
      : child.guardians.map((g) => ({
          name: g.name,
          relation: g.relation,
          phone: applyLevel(view.guardianPhone, g.phone, "phone"),
          age: view.guardianDetails === "full" ? g.age : null,
          health: view.guardianDetails === "full" ? g.health : null,
        }));
  const parents: ParentRecord[] =
    view.parentName === "none" && view.parentPhone === "none" && view.workPlace === "none"
      ? []
      : child.parents.map((p) => ({
          role: p.role,
          name: applyLevel(view.parentName, p.name, "text"),
          phone: applyLevel(view.parentPhone, p.phone, "phone"),
          workProvince: applyLevel(view.workPlace, p.workProvince, "text"),
          workCity: applyLevel(view.workPlace, p.workCity, "text"),
          employer: applyLevel(view.workPlace, p.employer, "text"),
          awaySince: view.workPlace === "full" ? p.awaySince : null,
        }));
  return {
    ...child,
    idNumber: applyLevel(view.idNumber, child.idNumber, "idNumber") as string,
    address: applyLevel(view.address, child.address, "text"),
    guardians,
    parents,
    familySituation: applyLevel(view.familyNotes, child.familySituation, "text"),
    psychologicalNotes: applyLevel(view.psychologicalNotes, child.psychologicalNotes, "text"),
    healthNotes: applyLevel(view.healthNotes, child.healthNotes, "text"),
    // Free text about the family's situation, kept with the family notes.
    remarks: applyLevel(view.familyNotes, child.remarks, "text"),
    exitNote: applyLevel(view.familyNotes, child.exitNote, "text"),
  };
}

/** The register's fields a history entry may show, by the field the entry names; anything not full is starred. */
export function historyFieldLevel(view: ChildView, field: string): ChildView[keyof ChildView] {
  switch (field) {
    case "idNumber":
      return view.idNumber;
    case "address":
      return view.address;
    case "guardians":
      return [view.guardianName, view.guardianPhone, view.guardianDetails].every((l) => l === "full") ? "full" : "none";
    case "parents":
      return [view.parentName, view.parentPhone, view.workPlace].every((l) => l === "full") ? "full" : "none";
    case "familySituation":
    case "remarks":
    case "exitNote":
      return view.familyNotes;
    case "psychologicalNotes":
      return view.psychologicalNotes;
    case "healthNotes":
      return view.healthNotes;
    default:
      return "full";
  }
}
