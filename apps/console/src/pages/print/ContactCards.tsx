import { useState } from "react";
import dayjs from "dayjs";
import { Alert, Button, Radio, Result, Space, Spin, Typography } from "antd";
import { PrinterOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../services/client";
import type { Child, ContactCard, Page } from "../../services/models";
import { QrCode } from "../../components/QrCode";
import { label } from "../../services/labels";
import { Field } from "../../components/Masked";
import { useSession } from "../../auth/session";
import { useOrgUnit } from "../../services/hooks";
import { childView } from "../../../../../packages/auth/src/need-to-know";
import "./contact-card.css";

const cardOf = (id: string) => unwrap<ContactCard>(api.GET("/api/v1/children/{id}/contact-card", { params: { path: { id } } }));

/** Every active child of a village, then their cards (a few at a time: one village is tens of children). */
async function villageCards(village: string): Promise<ContactCard[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap<Page<Child>>(
      api.GET("/api/v1/children", { params: { query: { orgUnit: village, status: "active", limit: 200, ...(cursor ? { cursor } : {}) } } }),
    );
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const cards: ContactCard[] = [];
  for (let i = 0; i < ids.length; i += 6) cards.push(...(await Promise.all(ids.slice(i, i + 6).map(cardOf))));
  return cards.sort((a, b) => a.child.name.localeCompare(b.child.name, "zh-CN"));
}

type View = ReturnType<typeof childView>;

function Card({ card, view, printedAt }: { card: ContactCard; view: View; printedAt: string }) {
  const c = card.child;
  const no = (f: keyof View) => view[f] === "none";
  return (
    <section className="contact-card" data-testid="contact-card">
      {/* The link opens the child's 走访 page after sign-in: nothing about the child is in it. In the title's corner: the card keeps its height (one sheet). */}
      <figure className="card-qr">
        <figcaption>扫码登记走访</figcaption>
        <QrCode value={`${location.origin}/visits/child/${c.id}`} size={64} label={`${c.name}的走访页二维码`} />
      </figure>
      <h2>留守儿童联系卡</h2>
      <div className="card-sub">{[card.address.township, card.address.village].filter(Boolean).join(" ")}</div>
      <table>
        <tbody>
          <tr>
            <th>姓名</th>
            <td data-testid="card-name">{c.name}</td>
            <th>性别</th>
            <td>{c.sexLabel}</td>
          </tr>
          <tr>
            <th>出生日期</th>
            <td>{c.birthDate}</td>
            <th>留守类型</th>
            <td>{c.leftBehindTypeLabel}</td>
          </tr>
          <tr>
            <th>身份证号</th>
            <td colSpan={3}>
              <Field value={c.idNumber} withheld={no("idNumber")} />
            </td>
          </tr>
          <tr>
            <th>家庭住址</th>
            <td colSpan={3}>
              {[card.address.township, card.address.village].filter(Boolean).join("")} <Field value={card.address.detail} withheld={no("address")} />
            </td>
          </tr>
          <tr>
            <th>学校班级</th>
            <td colSpan={3}>{card.school ? [card.school.name, card.school.grade, card.school.className].filter(Boolean).join(" ") : "未入学"}</td>
          </tr>
        </tbody>
      </table>
      <div className="section">监护人</div>
      <table>
        <thead>
          <tr>
            <th>姓名</th>
            <th>关系</th>
            <th>电话</th>
          </tr>
        </thead>
        <tbody>
          {card.guardians.length ? (
            card.guardians.map((g, i) => (
              <tr key={i}>
                <td>
                  <Field value={g.name} withheld={no("guardianName")} />
                </td>
                <td>{g.relation}</td>
                <td>
                  <Field value={g.phone} withheld={no("guardianPhone")} />
                </td>
              </tr>
            ))
          ) : (
            <tr>
              <td colSpan={3}>
                <Field value={null} withheld={no("guardianName")} />
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="section">父母</div>
      <table>
        <thead>
          <tr>
            <th></th>
            <th>姓名</th>
            <th>电话</th>
            <th>务工地</th>
          </tr>
        </thead>
        <tbody>
          {card.parents.length ? (
            card.parents.map((p) => (
              <tr key={p.role}>
                <td>{p.role === "father" ? "父亲" : "母亲"}</td>
                <td>
                  <Field value={p.name} withheld={no("parentName")} />
                </td>
                <td>
                  <Field value={p.phone} withheld={no("parentPhone")} />
                </td>
                <td>
                  <Field value={[p.workProvince, p.workCity].filter(Boolean).join(" ")} withheld={no("workPlace")} />
                </td>
              </tr>
            ))
          ) : (
            <tr>
              <td colSpan={4}>
                <Field value={null} withheld={no("parentName")} />
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="section">帮扶</div>
      <table>
        <tbody>
          <tr>
            <th>主要帮扶人</th>
            <td>
              {card.helper ? (
                <>
                  {card.helper.name}
                  {"helperKindLabel" in card.helper ? `（${card.helper.helperKindLabel}）` : "（档案登记的帮扶责任人）"}{" "}
                  {"phone" in card.helper && <Field value={card.helper.phone} withheld={no("guardianPhone")} />}
                </>
              ) : (
                "暂未结对"
              )}
            </td>
          </tr>
          {card.assistantHelper && (
            <tr>
              <th>协助帮扶人</th>
              <td>
                {card.assistantHelper.name}
                {"helperKindLabel" in card.assistantHelper ? `（${card.assistantHelper.helperKindLabel}）` : ""}{" "}
                {"phone" in card.assistantHelper && <Field value={card.assistantHelper.phone} withheld={no("guardianPhone")} />}
              </td>
            </tr>
          )}
          <tr>
            <th>手拉手伙伴</th>
            <td>
              {card.peerBuddy ? (
                <>
                  {card.peerBuddy.name} <Field value={card.peerBuddy.phone} withheld={no("guardianPhone")} />
                </>
              ) : (
                "暂未结对"
              )}
            </td>
          </tr>
        </tbody>
      </table>
      <div className="card-foot">
        <span>
          风险等级：{label("riskLevel", c.riskLevel)}　状态：{label("status", c.status)}
        </span>
        <span>内含个人信息，请妥善保管，不得外传 · 打印于 {printedAt}</span>
      </div>
    </section>
  );
}

/** 联系卡: `/print/cards/:id` (one child) or `/print/cards?village=<code>` (every active child of a village). */
export default function ContactCards() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const village = params.get("village") ?? undefined;
  const navigate = useNavigate();
  const [size, setSize] = useState<"A5" | "A4">("A5");
  const { claims } = useSession();
  const view = childView({ roles: claims.roles as never }, { paired: false });
  const villageName = useOrgUnit(village);
  const cards = useQuery({
    queryKey: ["contact-cards", id ?? `village:${village}`],
    enabled: Boolean(id || village),
    queryFn: async () => (id ? [await cardOf(id)] : villageCards(village!)),
  });
  const printedAt = dayjs().format("YYYY-MM-DD HH:mm");
  if (!id && !village) return <Result status="warning" title="请指定儿童或村（社区）" extra={<Link to="/children">返回儿童档案</Link>} />;
  return (
    <div className="cards-page">
      {/* The sheet size lives in @page, which a class cannot switch: this rule does. */}
      <style>{`@page { size: ${size} portrait; margin: ${size === "A5" ? "8mm" : "15mm"}; }`}</style>
      <div className="cards-toolbar no-print">
        <Space wrap style={{ width: "100%", justifyContent: "space-between" }}>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {id ? "联系卡" : `联系卡 · ${villageName.data?.name ?? village}`}
            {cards.data && !id && (
              <Typography.Text type="secondary" style={{ fontSize: 14, marginLeft: 8 }}>
                共 {cards.data.length} 张
              </Typography.Text>
            )}
          </Typography.Title>
          <Space wrap>
            <Radio.Group
              value={size}
              onChange={(e) => setSize(e.target.value)}
              optionType="button"
              options={[
                { value: "A5", label: "A5" },
                { value: "A4", label: "A4" },
              ]}
              aria-label="纸张"
            />
            <Button type="primary" icon={<PrinterOutlined />} onClick={() => window.print()} disabled={!cards.data?.length}>
              打印
            </Button>
            <Button onClick={() => navigate(id ? `/children/${id}` : "/children")}>返回</Button>
          </Space>
        </Space>
      </div>
      {cards.isLoading && (
        <div style={{ textAlign: "center", padding: 48 }}>
          <Spin />
        </div>
      )}
      {cards.isError && <Alert className="no-print" type="error" showIcon title={(cards.error as Error).message} style={{ maxWidth: 820, margin: "0 auto" }} />}
      {cards.data?.length === 0 && (
        <Alert className="no-print" type="info" showIcon title="该村（社区）没有在册儿童" style={{ maxWidth: 820, margin: "0 auto" }} />
      )}
      {cards.data?.map((card) => (
        <Card key={card.child.id} card={card} view={view} printedAt={printedAt} />
      ))}
    </div>
  );
}
