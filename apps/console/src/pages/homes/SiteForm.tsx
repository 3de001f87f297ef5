import { useEffect, useMemo } from "react";
import { App, Button, Checkbox, Flex, Form, Input, Radio, Result, Select, Skeleton, Space, Typography } from "antd";
import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { useOrgUnit, useOrgUnits, useSchools } from "../../services/hooks";
import { countyOf, townshipOf } from "../../services/org-units";
import type { SiteChild, SiteDetail, SiteOptions } from "../../services/models";

interface Values {
  kind: "village" | "school";
  townshipCode?: string;
  villageCode?: string;
  schoolId?: string;
  name: string;
  room?: string;
  equipment?: string[];
  openingHours?: string;
  adults?: { name: string; duty: string; phone?: string }[];
  rules?: string[];
  plan?: string;
  childIds?: string[];
}

const blank = (v?: string) => (v && v.trim() ? v.trim() : null);
const age = (birthDate: string | null) => (birthDate ? `${new Date().getFullYear() - Number(birthDate.slice(0, 4))}岁` : "");

/** 新建 / 编辑儿童之家: place (village or school), room, equipment, hours, the adults, rules, plan and the children served. */
export default function SiteForm() {
  const { id } = useParams();
  const editing = Boolean(id);
  const { access, claims } = useSession();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const teacherOnly = access.primaryRole === "teacher";

  const options = useQuery({ queryKey: ["site-options"], staleTime: Infinity, queryFn: () => unwrap<SiteOptions>(api.GET("/api/v1/sites/options")) });
  const site = useQuery({
    queryKey: ["site", id],
    enabled: editing,
    queryFn: () => unwrap<SiteDetail>(api.GET("/api/v1/sites/{id}", { params: { path: { id: id! } } })),
  });

  const kind = Form.useWatch("kind", form) ?? (teacherOnly ? "school" : "village");
  const township = Form.useWatch("townshipCode", form);
  const village = Form.useWatch("villageCode", form);
  const schoolId = Form.useWatch("schoolId", form);
  const townships = useOrgUnits(access.orgLevel === "county" ? countyOf(access.orgUnit) : undefined, "township");
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

  // The children it may serve: the village's, or the school's (chosen from those in the user's area).
  const place = editing ? null : kind === "village" ? (village ? { orgUnit: village } : null) : township && schoolId ? { orgUnit: township, schoolId } : null;
  const candidates = useQuery({
    queryKey: ["site-candidates", id ?? place],
    enabled: editing || Boolean(place),
    queryFn: async () =>
      (
        await unwrap<{ items: SiteChild[] }>(
          editing
            ? api.GET("/api/v1/sites/{id}/candidates", { params: { path: { id: id! } } })
            : api.GET("/api/v1/sites/candidates", { params: { query: place! } }),
        )
      ).items,
  });

  const initial = useMemo<Partial<Values> | null>(() => {
    if (editing) {
      const s = site.data;
      if (!s) return null;
      return {
        kind: s.kind,
        name: s.name,
        room: s.room ?? undefined,
        equipment: s.equipment,
        openingHours: s.openingHours ?? undefined,
        adults: s.adults.map((a) => ({ name: a.name, duty: a.duty, phone: a.phone ?? undefined })),
        rules: s.rules,
        plan: s.plan ?? undefined,
        childIds: s.children.map((c) => c.id),
      };
    }
    return {
      kind: teacherOnly ? "school" : access.orgLevel === "village" ? "village" : "village",
      townshipCode: access.orgLevel !== "county" ? townshipOf(access.orgUnit) : undefined,
      villageCode: access.orgLevel === "village" ? access.orgUnit : undefined,
      schoolId: teacherOnly ? claims.schoolId : undefined,
      equipment: ["电脑", "亲情电话", "图书"],
      rules: ["心理咨询", "健康教育", "代理家长"],
      adults: [{ name: claims.name, duty: "管理员" }],
    };
  }, [editing, site.data, teacherOnly, access, claims]);
  useEffect(() => {
    if (initial) form.setFieldsValue(initial);
  }, [initial, form]);

  const save = useMutation({
    mutationFn: async (v: Values) => {
      const common = {
        name: v.name,
        room: blank(v.room),
        equipment: v.equipment ?? [],
        openingHours: blank(v.openingHours),
        adults: (v.adults ?? []).map((a) => ({ name: a.name, duty: a.duty, phone: blank(a.phone) })),
        rules: v.rules ?? [],
        plan: blank(v.plan),
        childIds: v.childIds ?? [],
      };
      if (editing) {
        await unwrap(api.PATCH("/api/v1/sites/{id}", { params: { path: { id: id! } }, body: common }));
        return id!;
      }
      const orgUnit = v.kind === "village" ? (v.villageCode ?? "") : (v.townshipCode ?? "");
      const created = await unwrap<{ id: string }>(
        api.POST("/api/v1/sites", { body: { ...common, kind: v.kind, orgUnit, schoolId: v.kind === "school" ? (v.schoolId ?? null) : null } }),
      );
      return created.id;
    },
    onSuccess: (siteId) => {
      message.success(editing ? "已保存" : "已新建儿童之家");
      void qc.invalidateQueries({ queryKey: ["sites"] });
      void qc.invalidateQueries({ queryKey: ["site", siteId] });
      void navigate(`/homes/${siteId}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length)
        form.setFields(
          err.fieldIssues.map((i) => {
            const [head, index, sub] = i.field.split(".");
            const name = head === "orgUnit" ? (kind === "village" ? "villageCode" : "townshipCode") : head!;
            return { name: (head === "adults" && sub ? ["adults", Number(index), sub] : name) as never, errors: [i.message] };
          }),
        );
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });

  if (!access.canKeepHomes) return <Result status="403" title="无权管理儿童之家" extra={<Link to="/homes">返回列表</Link>} />;
  if (editing && site.isLoading) return <Skeleton active />;

  return (
    <Flex vertical gap={12} style={{ maxWidth: 720 }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {editing ? `编辑：${site.data?.name ?? ""}` : "新建儿童之家"}
      </Typography.Title>
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} scrollToFirstError>
        {!editing && (
          <>
            <Form.Item name="kind" label="设在" rules={[{ required: true }]}>
              <Radio.Group
                optionType="button"
                disabled={teacherOnly}
                options={[
                  { value: "village", label: "村", disabled: teacherOnly },
                  { value: "school", label: "学校" },
                ]}
              />
            </Form.Item>
            {(kind === "school" || access.orgLevel !== "village") && (
              <Form.Item name="townshipCode" label="乡镇" rules={[{ required: true, message: "请选择乡镇" }]}>
                <Select options={townshipOptions} disabled={access.orgLevel !== "county"} placeholder="选择乡镇" />
              </Form.Item>
            )}
            {kind === "village" ? (
              <Form.Item name="villageCode" label="村" rules={[{ required: true, message: "请选择村" }]}>
                <Select options={villageOptions} disabled={access.orgLevel === "village"} placeholder="选择村" />
              </Form.Item>
            ) : (
              <Form.Item name="schoolId" label="学校" rules={[{ required: true, message: "请选择学校" }]}>
                <Select options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))} disabled={teacherOnly} placeholder="选择学校" />
              </Form.Item>
            )}
          </>
        )}
        <Form.Item name="name" label="名称" rules={[{ required: true, message: "请填写儿童之家名称" }]}>
          <Input maxLength={60} placeholder="如 长岭村留守儿童之家" />
        </Form.Item>
        <Form.Item name="room" label="活动室">
          <Input maxLength={100} placeholder="如 村委会二楼活动室（40平方米）" />
        </Form.Item>
        <Form.Item name="equipment" label="设施（可自行添加）">
          <Select mode="tags" options={(options.data?.equipment ?? []).map((e) => ({ value: e, label: e }))} />
        </Form.Item>
        <Form.Item name="openingHours" label="开放时间">
          <Input maxLength={100} placeholder="如 周六、周日 9:00–17:00；寒暑假每天开放" />
        </Form.Item>
        <Typography.Text strong>负责人</Typography.Text>
        <Form.List name="adults">
          {(fields, { add, remove }) => (
            <Flex vertical gap={0} style={{ marginTop: 8 }}>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" wrap>
                  <Form.Item name={[f.name, "name"]} rules={[{ required: true, message: "请填写姓名" }]}>
                    <Input placeholder="姓名" maxLength={40} style={{ width: 110 }} />
                  </Form.Item>
                  <Form.Item name={[f.name, "duty"]} rules={[{ required: true, message: "请填写职责" }]}>
                    <Input placeholder="职责（管理员、代理家长…）" maxLength={40} style={{ width: 180 }} />
                  </Form.Item>
                  <Form.Item name={[f.name, "phone"]}>
                    <Input placeholder="电话（可选）" maxLength={13} style={{ width: 140 }} />
                  </Form.Item>
                  <MinusCircleOutlined aria-label="删除负责人" onClick={() => remove(f.name)} />
                </Space>
              ))}
              <Form.Item>
                <Button type="dashed" onClick={() => add({ name: "", duty: "" })} icon={<PlusOutlined />}>
                  添加负责人
                </Button>
              </Form.Item>
            </Flex>
          )}
        </Form.List>
        <Form.Item name="rules" label="制度（可自行添加）">
          <Select mode="tags" options={(options.data?.rules ?? []).map((e) => ({ value: e, label: e }))} />
        </Form.Item>
        <Form.Item name="plan" label="三年规划">
          <Input.TextArea rows={4} maxLength={5000} showCount />
        </Form.Item>
        <Form.Item name="childIds" label={`服务儿童（${candidates.data?.length ?? 0} 名可选：本村或本校在册儿童）`}>
          <Checkbox.Group style={{ width: "100%" }}>
            <Flex wrap gap={8}>
              {(candidates.data ?? []).map((c) => (
                <Checkbox key={c.id} value={c.id}>
                  {c.name} <Typography.Text type="secondary">{age(c.birthDate)}</Typography.Text>
                </Checkbox>
              ))}
            </Flex>
          </Checkbox.Group>
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            保存
          </Button>
          <Link to={editing ? `/homes/${id}` : "/homes"}>
            <Button>取消</Button>
          </Link>
        </Space>
      </Form>
    </Flex>
  );
}
