import { useEffect, useMemo, useState } from "react";
import { Alert, App, Button, Card, Col, Divider, Form, Input, InputNumber, Result, Row, Select, Skeleton, Space, Typography } from "antd";
import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api, unwrap } from "../../services/client";
import type { Child } from "../../services/models";
import { labels, options } from "../../services/labels";
import { useAccess } from "../../auth/session";
import { useOrgUnit, useOrgUnits, useSchools } from "../../services/hooks";
import { countyOf, townshipOf } from "../../services/org-units";

/** The registry's ChildInput fields (services/registry/src/domain/child.ts) as the form holds them. */
interface FormValues {
  name: string;
  idNumber: string;
  sex?: string;
  birthDate?: string;
  ethnicity?: string;
  townshipCode?: string;
  villageCode?: string;
  address?: string;
  schoolId?: string;
  grade?: string;
  className?: string;
  leftBehindType?: string;
  difficultyCategories?: string[];
  riskLevel?: string;
  guardians?: { name: string; relation: string; phone?: string; age?: number; health?: string }[];
  parents: { role?: "father" | "mother"; name?: string; phone?: string; workProvince?: string; workCity?: string; employer?: string; awaySince?: string }[];
  familySituation?: string;
  healthNotes?: string;
  psychologicalNotes?: string;
  helperName?: string;
  remarks?: string;
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");
/** Optional text the API takes as null when empty. */
const orNull = (v: unknown) => (blank(v) ? null : typeof v === "string" ? v.trim() : v);

/**
 * The form always shows 父亲 (row 0) and 母亲 (row 1); only a row with something in it
 * is sent, so `parents.N` in a 400 is mapped back through this list to the row on screen.
 */
function parentRows(v: FormValues) {
  return (v.parents ?? []).map((p, i) => ({ p: p ?? {}, i })).filter(({ p }) => Object.entries(p).some(([k, x]) => k !== "role" && !blank(x)));
}

function toBody(v: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: v.name?.trim() ?? "",
    idNumber: v.idNumber?.trim() ?? "",
    villageCode: v.villageCode ?? "",
    address: orNull(v.address),
    schoolId: orNull(v.schoolId),
    grade: orNull(v.grade),
    className: orNull(v.className),
    leftBehindType: v.leftBehindType,
    difficultyCategories: v.difficultyCategories ?? [],
    riskLevel: v.riskLevel,
    // Every row is sent, in order, so `guardians.1.phone` in a 400 names the row on screen.
    guardians: (v.guardians ?? []).map((g) => ({
      name: g?.name?.trim() ?? "",
      relation: g?.relation?.trim() ?? "",
      phone: orNull(g?.phone),
      age: g?.age ?? null,
      health: orNull(g?.health),
    })),
    parents: parentRows(v).map(({ p, i }) => ({
      role: i === 0 ? "father" : "mother",
      name: orNull(p.name),
      phone: orNull(p.phone),
      workProvince: orNull(p.workProvince),
      workCity: orNull(p.workCity),
      employer: orNull(p.employer),
      awaySince: orNull(p.awaySince),
    })),
    familySituation: orNull(v.familySituation),
    healthNotes: orNull(v.healthNotes),
    psychologicalNotes: orNull(v.psychologicalNotes),
    helperName: orNull(v.helperName),
    remarks: orNull(v.remarks),
  };
  if (!blank(v.sex)) body.sex = v.sex;
  if (!blank(v.birthDate)) body.birthDate = v.birthDate!.trim();
  if (!blank(v.ethnicity)) body.ethnicity = v.ethnicity!.trim();
  return body;
}

function toValues(c: Child): FormValues {
  const parent = (role: "father" | "mother") => {
    const p = c.parents.find((x) => x.role === role);
    return {
      role,
      name: p?.name ?? undefined,
      phone: p?.phone ?? undefined,
      workProvince: p?.workProvince ?? undefined,
      workCity: p?.workCity ?? undefined,
      employer: p?.employer ?? undefined,
      awaySince: p?.awaySince ?? undefined,
    };
  };
  return {
    name: c.name,
    idNumber: c.idNumber ?? "",
    sex: c.sex,
    birthDate: c.birthDate,
    ethnicity: c.ethnicity,
    townshipCode: townshipOf(c.villageCode),
    villageCode: c.villageCode,
    address: c.address ?? undefined,
    schoolId: c.schoolId ?? undefined,
    grade: c.grade ?? undefined,
    className: c.className ?? undefined,
    leftBehindType: c.leftBehindType,
    difficultyCategories: c.difficultyCategories,
    riskLevel: c.riskLevel,
    guardians: c.guardians.map((g) => ({
      name: g.name,
      relation: g.relation,
      phone: g.phone ?? undefined,
      age: g.age ?? undefined,
      health: g.health ?? undefined,
    })),
    parents: [parent("father"), parent("mother")],
    familySituation: c.familySituation ?? undefined,
    healthNotes: c.healthNotes ?? undefined,
    psychologicalNotes: c.psychologicalNotes ?? undefined,
    helperName: c.helperName ?? undefined,
    remarks: c.remarks ?? undefined,
  };
}

/** Top-level names this form shows a Form.Item for; an API issue on any other name goes to the banner. */
const formFields = new Set([
  "name",
  "idNumber",
  "sex",
  "birthDate",
  "ethnicity",
  "villageCode",
  "address",
  "schoolId",
  "grade",
  "className",
  "leftBehindType",
  "difficultyCategories",
  "riskLevel",
  "guardians",
  "parents",
  "familySituation",
  "healthNotes",
  "psychologicalNotes",
  "helperName",
  "remarks",
]);
const listLeaf = new Set(["name", "relation", "phone", "age", "health", "workProvince", "workCity", "employer", "awaySince"]);

/** `guardians.0.phone` → ["guardians", 0, "phone"] when the form has that field. */
function formPath(field: string, sentParents: number[]): (string | number)[] | null {
  const parts = field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (parts[0] === "parents" && typeof parts[1] === "number") parts[1] = sentParents[parts[1]] ?? parts[1];
  if (!formFields.has(String(parts[0]))) return null;
  if (parts[0] === "guardians" || parts[0] === "parents") return parts.length === 3 && listLeaf.has(String(parts[2])) ? parts : null;
  return parts.length === 1 ? parts : null;
}

/** 新增儿童 (`/children/new`) and 编辑 (`/children/:id/edit`): the registry's POST and PATCH. */
export default function ChildForm() {
  const { id } = useParams();
  const editing = Boolean(id);
  const access = useAccess();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<FormValues>();
  const [banner, setBanner] = useState<{ title: string; items: string[]; existingChildId?: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const child = useQuery({
    queryKey: ["child", id],
    enabled: editing,
    queryFn: () => unwrap<Child>(api.GET("/api/v1/children/{id}", { params: { path: { id: id! } } })),
  });
  const initial = useMemo<FormValues | undefined>(() => {
    if (editing) return child.data ? toValues(child.data) : undefined;
    const own =
      access.orgLevel === "county"
        ? {}
        : { townshipCode: townshipOf(access.orgUnit), ...(access.orgLevel === "village" ? { villageCode: access.orgUnit } : {}) };
    return {
      name: "",
      idNumber: "",
      ethnicity: "汉族",
      leftBehindType: "both_parents_away",
      riskLevel: "low",
      difficultyCategories: [],
      guardians: [{ name: "", relation: "" }],
      parents: [{ role: "father" }, { role: "mother" }],
      ...own,
    };
  }, [editing, child.data, access]);
  useEffect(() => {
    if (initial) form.setFieldsValue(initial);
  }, [initial, form]);

  // Org unit pickers reach only as far as the user's jurisdiction.
  const county = countyOf(access.orgUnit);
  const township = Form.useWatch("townshipCode", form);
  const townships = useOrgUnits(access.orgLevel === "county" ? county : undefined, "township");
  const ownTownship = useOrgUnit(access.orgLevel !== "county" ? townshipOf(access.orgUnit) : undefined);
  const villages = useOrgUnits(access.orgLevel !== "village" ? township : undefined, "village");
  const ownVillage = useOrgUnit(access.orgLevel === "village" ? access.orgUnit : undefined);
  const schools = useSchools(township);
  const townshipOptions =
    access.orgLevel === "county"
      ? (townships.data ?? []).map((u) => ({ value: u.code, label: u.name }))
      : ownTownship.data
        ? [{ value: ownTownship.data.code, label: ownTownship.data.name }]
        : [];
  const villageOptions =
    access.orgLevel === "village"
      ? ownVillage.data
        ? [{ value: ownVillage.data.code, label: ownVillage.data.name }]
        : []
      : (villages.data ?? []).map((u) => ({ value: u.code, label: u.name }));

  if (!access.canEditChildren) return <Result status="403" title="无权建档或修改档案" extra={<Link to="/children">返回列表</Link>} />;
  if (editing && child.isLoading) return <Skeleton active />;
  if (editing && (child.isError || !child.data))
    return <Result status="warning" title={(child.error as Error)?.message ?? "无法加载档案"} extra={<Link to="/children">返回列表</Link>} />;

  const submit = async (values: FormValues) => {
    setBanner(null);
    setSaving(true);
    try {
      const body = toBody(values);
      let saved: Child;
      if (editing) {
        // Only what changed: an untouched masked value must not be written back as stars.
        const before = toBody(initial!);
        const patch = Object.fromEntries(Object.entries(body).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
        if (Object.keys(patch).length === 0) {
          message.info("没有修改任何内容");
          return;
        }
        saved = await unwrap<Child>(
          api.PATCH("/api/v1/children/{id}", { params: { path: { id: id! } }, body: { ...patch, revision: child.data!.revision } as never }),
        );
      } else {
        saved = await unwrap<Child>(api.POST("/api/v1/children", { body: body as never }));
      }
      await queryClient.invalidateQueries({ queryKey: ["children"] });
      queryClient.setQueryData(["child", saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["child-history", saved.id] });
      message.success(editing ? "档案已保存" : "已建档");
      navigate(`/children/${saved.id}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const issues = err.fieldIssues;
      const sentParents = parentRows(values).map(({ i }) => i);
      const placed = issues.flatMap((i) => {
        const p = formPath(i.field, sentParents);
        return p ? [{ path: p, message: i.message }] : [];
      });
      // The API's message as it is, under the field it names.
      form.setFields(placed.map((p) => ({ name: p.path as never, errors: [p.message] })));
      const rest = issues.filter((i) => !formPath(i.field, sentParents)).map((i) => i.message);
      const details = (err.details ?? {}) as { field?: string; existingChildId?: string };
      if (err.status === 409) {
        setBanner({ title: err.message, items: [], existingChildId: details.existingChildId });
        if (details.field) form.setFields([{ name: details.field as never, errors: [err.message] }]);
      } else if (issues.length === 0 || rest.length) {
        setBanner({ title: issues.length ? "请修改以下内容后再保存" : err.message, items: rest });
      }
      if (placed[0]) form.scrollToField(placed[0].path as never);
    } finally {
      setSaving(false);
    }
  };

  const col = { xs: 24, md: 12, xl: 8 };
  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        <Link to="/children">儿童档案</Link> /{" "}
        {editing ? (
          <>
            <Link to={`/children/${id}`}>{child.data!.name}</Link> / 编辑
          </>
        ) : (
          "新增儿童"
        )}
      </Typography.Title>
      <Card>
        {banner && (
          <Alert
            type="error"
            showIcon
            style={{ marginBottom: 16 }}
            data-testid="form-error"
            title={banner.title}
            description={
              banner.items.length || banner.existingChildId ? (
                <>
                  {banner.items.map((m) => (
                    <div key={m}>{m}</div>
                  ))}
                  {banner.existingChildId && <Link to={`/children/${banner.existingChildId}`}>查看已有档案</Link>}
                </>
              ) : undefined
            }
          />
        )}
        <Form<FormValues>
          form={form}
          layout="vertical"
          onFinish={submit}
          scrollToFirstError
          onValuesChange={(changed) => {
            if ("townshipCode" in changed && access.orgLevel === "county") form.setFieldsValue({ villageCode: undefined, schoolId: undefined });
          }}
        >
          <Divider titlePlacement="start">基本信息</Divider>
          <Row gutter={16}>
            <Col {...col}>
              <Form.Item name="name" label="姓名" rules={[{ required: true, message: "请填写姓名" }]}>
                <Input maxLength={40} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="idNumber" label="身份证号" rules={[{ required: true, message: "请填写身份证号" }]}>
                <Input maxLength={40} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="sex" label="性别" extra="不填则按身份证号">
                <Select allowClear options={options(labels.sex)} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="birthDate" label="出生日期" extra="格式 2015-03-07，不填则按身份证号">
                <Input placeholder="yyyy-mm-dd" maxLength={20} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="ethnicity" label="民族">
                <Input maxLength={20} />
              </Form.Item>
            </Col>
          </Row>
          <Divider titlePlacement="start">住址与学校</Divider>
          <Row gutter={16}>
            <Col {...col}>
              <Form.Item name="townshipCode" label="乡镇" rules={[{ required: true, message: "请选择乡镇" }]}>
                <Select options={townshipOptions} disabled={access.orgLevel !== "county"} placeholder="请选择" />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="villageCode" label="村（社区）" rules={[{ required: true, message: "请选择村（社区）" }]}>
                <Select options={villageOptions} disabled={access.orgLevel === "village"} placeholder="请选择" showSearch={{ optionFilterProp: "label" }} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="address" label="详细住址">
                <Input maxLength={200} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="schoolId" label="学校">
                <Select allowClear options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))} placeholder="未入学可不填" />
              </Form.Item>
            </Col>
            <Col xs={12} md={6} xl={4}>
              <Form.Item name="grade" label="年级">
                <Input maxLength={20} />
              </Form.Item>
            </Col>
            <Col xs={12} md={6} xl={4}>
              <Form.Item name="className" label="班级">
                <Input maxLength={20} />
              </Form.Item>
            </Col>
          </Row>
          <Divider titlePlacement="start">留守与困境</Divider>
          <Row gutter={16}>
            <Col {...col}>
              <Form.Item name="leftBehindType" label="留守类型" rules={[{ required: true, message: "请选择留守类型" }]}>
                <Select options={options(labels.leftBehindType)} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="difficultyCategories" label="困境类别">
                <Select mode="multiple" allowClear options={options(labels.difficultyCategory)} placeholder="无" />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="riskLevel" label="风险等级" rules={[{ required: true, message: "请选择风险等级" }]}>
                <Select options={options(labels.riskLevel)} />
              </Form.Item>
            </Col>
          </Row>
          <Divider titlePlacement="start">监护人</Divider>
          <Form.List name="guardians">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Row gutter={8} key={f.key} align="top">
                    <Col xs={12} md={4}>
                      <Form.Item name={[f.name, "name"]} label="姓名">
                        <Input maxLength={40} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={4}>
                      <Form.Item name={[f.name, "relation"]} label="与儿童关系">
                        <Input maxLength={20} placeholder="如 祖父" />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={5}>
                      <Form.Item name={[f.name, "phone"]} label="电话">
                        <Input maxLength={30} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={3}>
                      <Form.Item name={[f.name, "age"]} label="年龄">
                        <InputNumber min={10} max={120} style={{ width: "100%" }} />
                      </Form.Item>
                    </Col>
                    <Col xs={20} md={6}>
                      <Form.Item name={[f.name, "health"]} label="健康状况">
                        <Input maxLength={100} />
                      </Form.Item>
                    </Col>
                    <Col xs={4} md={2}>
                      <Form.Item label=" ">
                        <Button type="text" danger icon={<MinusCircleOutlined />} aria-label="删除监护人" onClick={() => remove(f.name)} />
                      </Form.Item>
                    </Col>
                  </Row>
                ))}
                {fields.length < 4 && (
                  <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ name: "", relation: "" })}>
                    添加监护人
                  </Button>
                )}
              </>
            )}
          </Form.List>
          <Divider titlePlacement="start">父母</Divider>
          <Form.List name="parents">
            {(fields) =>
              fields.map((f, i) => (
                <Row gutter={8} key={f.key}>
                  <Col xs={24} md={2}>
                    <Typography.Text strong style={{ lineHeight: "32px" }}>
                      {i === 0 ? "父亲" : "母亲"}
                    </Typography.Text>
                  </Col>
                  <Col xs={12} md={4}>
                    <Form.Item name={[f.name, "name"]} label="姓名">
                      <Input maxLength={40} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={4}>
                    <Form.Item name={[f.name, "phone"]} label="电话">
                      <Input maxLength={30} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={3}>
                    <Form.Item name={[f.name, "workProvince"]} label="务工省份">
                      <Input maxLength={20} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={3}>
                    <Form.Item name={[f.name, "workCity"]} label="务工城市">
                      <Input maxLength={40} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={5}>
                    <Form.Item name={[f.name, "employer"]} label="工作单位">
                      <Input maxLength={100} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={3}>
                    <Form.Item name={[f.name, "awaySince"]} label="外出时间">
                      <Input placeholder="yyyy-mm" maxLength={7} />
                    </Form.Item>
                  </Col>
                </Row>
              ))
            }
          </Form.List>
          <Divider titlePlacement="start">情况说明</Divider>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="familySituation" label="家庭情况">
                <Input.TextArea rows={3} maxLength={2000} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="healthNotes" label="健康情况">
                <Input.TextArea rows={3} maxLength={2000} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="psychologicalNotes" label="心理情况">
                <Input.TextArea rows={3} maxLength={2000} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="remarks" label="备注">
                <Input.TextArea rows={3} maxLength={500} />
              </Form.Item>
            </Col>
            <Col {...col}>
              <Form.Item name="helperName" label="帮扶责任人">
                <Input maxLength={40} />
              </Form.Item>
            </Col>
          </Row>
          <Space>
            <Button type="primary" htmlType="submit" loading={saving}>
              {editing ? "保存" : "建档"}
            </Button>
            <Button onClick={() => navigate(editing ? `/children/${id}` : "/children")}>取消</Button>
          </Space>
        </Form>
      </Card>
    </div>
  );
}
