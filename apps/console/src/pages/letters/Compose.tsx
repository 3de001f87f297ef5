import { useEffect } from "react";
import { App, Button, Card, Checkbox, Flex, Form, Input, Select, Space, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { useOrgUnit, useOrgUnits } from "../../services/hooks";
import { CATEGORY_LABELS, VARIABLES, type Letter, type SchoolOption } from "./model";

interface Values {
  title: string;
  body: string;
  signature: string;
  townshipCode: string;
  schoolId?: string;
  classKey?: string;
  categories: string[];
}

const SAMPLE =
  "尊敬的{监护人姓名}：\n您好！{学校}{班级}的{儿童姓名}即将放寒假。假期里请您多关心孩子的安全：不到河塘、水库游泳，不玩火，外出告知去向。\n祝您全家平安！";
const classKey = (grade?: string | null, className?: string | null) => `${grade ?? ""}|${className ?? ""}`;

/** Write (or change a draft of) a letter home: text with variables, the township / school / class it goes to, and to whom. */
export default function ComposeLetter() {
  const { id } = useParams();
  const { access } = useSession();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const existing = useQuery({
    queryKey: ["letter", id],
    enabled: Boolean(id),
    queryFn: async () => unwrap<Letter>(api.GET("/api/v1/letters/{id}", { params: { path: { id: id! } } })),
  });
  const self = useOrgUnit(access.orgUnit);
  const townships = useOrgUnits(access.orgLevel === "county" ? access.orgUnit : undefined, "township");
  const townshipOptions =
    access.orgLevel === "township"
      ? [{ value: access.orgUnit, label: self.data?.name ?? access.orgUnit }]
      : (townships.data ?? []).map((u) => ({ value: u.code, label: u.name }));
  const townshipCode = Form.useWatch("townshipCode", form);
  const schoolId = Form.useWatch("schoolId", form);
  const schools = useQuery({
    queryKey: ["letter-schools", townshipCode],
    enabled: Boolean(townshipCode),
    queryFn: async () =>
      (await unwrap<{ schools: SchoolOption[] }>(api.GET("/api/v1/letters/schools", { params: { query: { townshipCode: townshipCode! } } }))).schools,
  });
  const school = schools.data?.find((s) => s.id === schoolId);

  useEffect(() => {
    const l = existing.data;
    if (l)
      form.setFieldsValue({
        title: l.title,
        body: l.body,
        signature: l.signature,
        townshipCode: l.scope.townshipCode,
        schoolId: l.scope.schoolId ?? undefined,
        classKey: l.scope.grade || l.scope.className ? classKey(l.scope.grade, l.scope.className) : undefined,
        categories: l.categories,
      });
  }, [existing.data, form]);

  const save = useMutation({
    mutationFn: async (v: Values) => {
      const [grade, className] = v.classKey ? v.classKey.split("|") : [null, null];
      const body = {
        title: v.title,
        body: v.body,
        signature: v.signature,
        scope: { townshipCode: v.townshipCode, schoolId: v.schoolId ?? null, grade: grade || null, className: className || null },
        categories: v.categories as ("guardian" | "father" | "mother")[],
      };
      return id ? unwrap<Letter>(api.PUT("/api/v1/letters/{id}", { params: { path: { id } }, body })) : unwrap<Letter>(api.POST("/api/v1/letters", { body }));
    },
    onSuccess: (letter) => {
      void qc.invalidateQueries({ queryKey: ["letters"] });
      void qc.invalidateQueries({ queryKey: ["letter", letter.id] });
      message.success("已保存草稿，请预览后发送");
      navigate(`/letters/${letter.id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length)
        form.setFields(
          err.fieldIssues.map((i) => ({
            name: i.field.startsWith("scope.") ? (i.field === "scope.schoolId" ? "schoolId" : "townshipCode") : i.field.split(".")[0]!,
            errors: [i.message],
          })) as never,
        );
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });

  /** A variable goes in where the cursor is in the text (or at its end). */
  const insert = (name: string) => {
    const el = document.getElementById("body") as HTMLTextAreaElement | null;
    const text: string = form.getFieldValue("body") ?? "";
    const at = el?.selectionStart ?? text.length;
    form.setFieldValue("body", `${text.slice(0, at)}{${name}}${text.slice(el?.selectionEnd ?? at)}`);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + name.length + 2, at + name.length + 2);
    });
  };

  return (
    <Flex vertical gap={12} style={{ maxWidth: 860 }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {id ? "修改草稿" : "写一封信"}
      </Typography.Title>
      <Card>
        <Form
          form={form}
          layout="vertical"
          initialValues={{ body: SAMPLE, categories: ["guardian"], townshipCode: access.orgLevel === "township" ? access.orgUnit : undefined }}
          onFinish={(v) => save.mutate(v)}
        >
          <Form.Item name="title" label="标题" rules={[{ required: true, message: "请填写标题" }]}>
            <Input maxLength={40} showCount placeholder="如 寒假安全致家长的一封信" />
          </Form.Item>
          <Form.Item label="正文" required>
            <Space wrap style={{ marginBottom: 8 }}>
              <Typography.Text type="secondary">插入变量：</Typography.Text>
              {VARIABLES.map((v) => (
                <Button key={v} size="small" onClick={() => insert(v)}>
                  {`{${v}}`}
                </Button>
              ))}
            </Space>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
              {"{监护人姓名}"}为收信人（监护人或父母）的姓名；同一号码有几个孩子时，{"{儿童姓名}"}写出每个孩子。
            </Typography.Paragraph>
            <Form.Item name="body" noStyle rules={[{ required: true, message: "请填写正文" }]}>
              <Input.TextArea id="body" rows={8} maxLength={3000} showCount aria-label="正文" />
            </Form.Item>
          </Form.Item>
          <Form.Item name="signature" label="落款" rules={[{ required: true, message: "请填写落款" }]}>
            <Input maxLength={40} placeholder="如 长岭乡人民政府" />
          </Form.Item>
          <Flex gap={12} wrap>
            <Form.Item name="townshipCode" label="乡镇" rules={[{ required: true, message: "请选择乡镇" }]} style={{ minWidth: 200, flex: 1 }}>
              <Select
                options={townshipOptions}
                placeholder="选择乡镇"
                onChange={() => form.setFieldsValue({ schoolId: undefined, classKey: undefined })}
                aria-label="乡镇"
              />
            </Form.Item>
            <Form.Item name="schoolId" label="学校（可选）" style={{ minWidth: 200, flex: 1 }}>
              <Select
                allowClear
                placeholder="全乡镇"
                loading={schools.isLoading}
                options={(schools.data ?? []).map((s) => ({ value: s.id, label: `${s.name}（${s.children}名儿童）` }))}
                onChange={() => form.setFieldValue("classKey", undefined)}
                aria-label="学校"
              />
            </Form.Item>
            <Form.Item name="classKey" label="班级（可选）" style={{ minWidth: 160, flex: 1 }}>
              <Select
                allowClear
                disabled={!school}
                placeholder="全校"
                options={(school?.classes ?? []).map((c) => ({
                  value: classKey(c.grade, c.className),
                  label: `${c.grade ?? ""}${c.className ?? ""}（${c.children}）`,
                }))}
                aria-label="班级"
              />
            </Form.Item>
          </Flex>
          {/* A validator, not `required`: AntD would put aria-required on the group's div, which axe refuses. */}
          <Form.Item
            name="categories"
            label="收信人（至少一类）"
            rules={[{ validator: (_, v?: string[]) => (v?.length ? Promise.resolve() : Promise.reject(new Error("请至少选择一类收信人"))) }]}
          >
            <Checkbox.Group aria-label="收信人" options={Object.entries(CATEGORY_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Flex gap={8}>
            <Button type="primary" htmlType="submit" loading={save.isPending}>
              保存并预览
            </Button>
            <Button onClick={() => navigate(id ? `/letters/${id}` : "/letters")}>取消</Button>
          </Flex>
        </Form>
      </Card>
    </Flex>
  );
}
