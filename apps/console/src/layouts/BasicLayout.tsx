import { Suspense, useState } from "react";
import { App, Badge, Button, Drawer, Dropdown, Grid, Layout, Menu, Space, Spin, Tag, Typography, type MenuProps } from "antd";
import {
  ApartmentOutlined,
  AuditOutlined,
  IdcardOutlined,
  BarChartOutlined,
  SettingOutlined,
  BellOutlined,
  CarryOutOutlined,
  DashboardOutlined,
  HeartOutlined,
  AlertOutlined,
  LogoutOutlined,
  MedicineBoxOutlined,
  MenuOutlined,
  MessageOutlined,
  TeamOutlined,
  UploadOutlined,
  UserOutlined,
  CalendarOutlined,
  ReadOutlined,
  SwapOutlined,
  HomeOutlined,
  SafetyOutlined,
  MailOutlined,
} from "@ant-design/icons";
import { Link, Outlet, useLocation, useNavigate, useNavigation } from "react-router";
import { useSession } from "../auth/session";
import { signOut } from "../auth/oidc";
import { useOrgUnit, useUnreadCount } from "../services/hooks";
import type { Access } from "../access";
import { SyncIndicator } from "../offline/SyncIndicator";
import { offlineStoreExists } from "../offline/store";
import styles from "./BasicLayout.module.css";

const { Header, Sider, Content } = Layout;

function menuItems(access: Access): MenuProps["items"] {
  return [
    { key: "/", icon: <DashboardOutlined />, label: "工作台" },
    access.canListChildren && { key: "/children", icon: <TeamOutlined />, label: "儿童档案" },
    access.canRecordVisits && { key: "/visits", icon: <CarryOutOutlined />, label: "我的走访" },
    access.canSeePairing && { key: "/pairing", icon: <HeartOutlined />, label: "结对帮扶" },
    access.canSeeConcerns && { key: "/concerns", icon: <AlertOutlined />, label: "关注事项" },
    access.canSeeHomes && { key: "/homes", icon: <HomeOutlined />, label: "儿童之家" },
    access.canSeeSafety && { key: "/safety", icon: <SafetyOutlined />, label: "安全教育" },
    access.canSendLetters && { key: "/letters", icon: <MailOutlined />, label: "致家长的一封信" },
    access.canSeeCheckups && { key: "/checkups", icon: <MedicineBoxOutlined />, label: "体检" },
    access.canSeeReports && { key: "/reports", icon: <BarChartOutlined />, label: "统计报表" },
    access.canImport && { key: "/imports", icon: <UploadOutlined />, label: "导入" },
    (access.canRunSchoolYear || access.canMakeHandoverPack) && { key: "/school-year", icon: <CalendarOutlined />, label: "学年" },
    access.canSeeEnrolment && { key: "/enrolment", icon: <ReadOutlined />, label: "控辍保学" },
    access.canTransfer && { key: "/transfers", icon: <SwapOutlined />, label: "转移" },
    access.canKeepOrgUnits && { key: "/org-units", icon: <ApartmentOutlined />, label: "区划与学校" },
    { key: "/inbox", icon: <MessageOutlined />, label: "消息" },
    access.canManageAccounts && { key: "/accounts", icon: <IdcardOutlined />, label: "账号管理" },
    access.canReadAudit && { key: "/audit", icon: <AuditOutlined />, label: "审计" },
    access.canEditNotificationSettings && { key: "/settings/notifications", icon: <SettingOutlined />, label: "通知设置" },
  ].filter(Boolean) as MenuProps["items"];
}

/** The menu key of the current page: its first path segment (two under /settings). */
const selectedKey = (pathname: string) => {
  const parts = pathname.split("/");
  return pathname === "/" ? "/" : parts[1] === "settings" ? `/settings/${parts[2]}` : `/${parts[1]}`;
};

/**
 * Ant Design Pro's shape: a sider menu on wide screens, a drawer behind a menu button
 * on phones (village directors work on phones), the user and the inbox in the header.
 */
export function BasicLayout() {
  const { claims, access } = useSession();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const [drawerOpen, setDrawerOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const navigation = useNavigation();
  const org = useOrgUnit(access.orgUnit);
  const unread = useUnreadCount();
  const { modal } = App.useApp();
  // Sign-out wipes this device's offline data (auth/oidc.ts); records not yet synced are named first.
  const leave = async () => {
    const pending = (await offlineStoreExists()) ? (await (await import("../offline/queue")).pendingCount(claims.username)).pending : 0;
    if (!pending) return signOut();
    modal.confirm({
      title: `还有 ${pending} 条走访记录未同步`,
      content: "退出登录会清除本机保存的离线资料，包括这些未同步的记录。请先联网同步；确实要放弃它们才退出。",
      okText: "仍然退出并清除",
      okButtonProps: { danger: true },
      cancelText: "先不退出",
      onOk: () => signOut(),
    });
  };

  const menu = (
    <Menu
      mode="inline"
      theme="dark"
      selectedKeys={[selectedKey(location.pathname)]}
      items={menuItems(access)}
      onClick={({ key }) => {
        setDrawerOpen(false);
        void navigate(key);
      }}
    />
  );
  const brand = (
    <div className={styles.brand}>
      <img src="/favicon.svg" alt="" width={28} height={28} />
      <span>守护 · 关爱服务平台</span>
    </div>
  );
  const userMenu: MenuProps = {
    items: [
      { key: "who", disabled: true, label: `${access.roleLabel} · ${org.data?.name ?? access.orgUnit}` },
      { type: "divider" },
      { key: "logout", icon: <LogoutOutlined />, label: "退出登录", onClick: () => void leave() },
    ],
  };

  return (
    <Layout className={styles.root}>
      {!phone && (
        <Sider width={208} breakpoint="lg" collapsible={false} className={`${styles.sider} no-print`}>
          {brand}
          {menu}
        </Sider>
      )}
      {phone && (
        <Drawer
          placement="left"
          open={drawerOpen}
          onClose={() => setDrawerOpen(false)}
          size={240}
          closable={false}
          styles={{ body: { padding: 0, background: "#001529" } }}
          title={null}
        >
          {brand}
          {menu}
        </Drawer>
      )}
      <Layout>
        <Header className={`${styles.header} no-print`}>
          {phone ? <Button type="text" icon={<MenuOutlined />} aria-label="打开菜单" onClick={() => setDrawerOpen(true)} /> : <span />}
          <Space size={phone ? 4 : 16}>
            {access.canRecordVisits && <SyncIndicator owner={claims.username} />}
            <Link to="/inbox" aria-label={`消息，未读 ${unread.data ?? 0} 条`} data-testid="unread-badge" data-unread={String(unread.data ?? "")}>
              <Badge count={unread.data ?? 0} size="small">
                <BellOutlined className={styles.bell} />
              </Badge>
            </Link>
            <Dropdown menu={userMenu} trigger={["click"]}>
              <Button type="text" className={styles.user} data-testid="current-user">
                <UserOutlined />
                <span className={styles.userName}>{claims.name || claims.username}</span>
                {/* On a phone the role is in this menu: the header keeps room for 待同步. */}
                {!phone && (
                  <Tag color="blue" style={{ marginInlineEnd: 0 }}>
                    {access.roleLabel}
                  </Tag>
                )}
                {!phone && <Typography.Text type="secondary">{org.data?.name ?? access.orgUnit}</Typography.Text>}
              </Button>
            </Dropdown>
            {!phone && (
              <Button icon={<LogoutOutlined />} onClick={() => void leave()}>
                退出登录
              </Button>
            )}
          </Space>
        </Header>
        <Content className={styles.content}>
          <Spin spinning={navigation.state === "loading"} delay={200}>
            <Suspense fallback={<Spin />}>
              <Outlet />
            </Suspense>
          </Spin>
        </Content>
      </Layout>
    </Layout>
  );
}
