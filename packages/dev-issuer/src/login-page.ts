/** Keycloak-like zh-CN pages: self-contained (inline CSS only) so the CSP can forbid everything else. */

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const STYLE = `body{margin:0;font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#f0f2f5;color:#222}
main{max-width:360px;margin:10vh auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12)}
h1{font-size:22px;margin:0 0 24px;text-align:center}label{display:block;margin:12px 0 4px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;font-size:16px;border:1px solid #bbb;border-radius:4px}
p{text-align:center}input[type=submit]{width:100%;margin-top:24px;padding:10px;font-size:16px;background:#1677ff;color:#fff;border:0;border-radius:4px;cursor:pointer}
#input-error,.error{color:#c00;display:block;margin-top:12px}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>`;
}

export function loginPage(options: { action: string; username?: string; error?: boolean }): string {
  const error = options.error ? `<span id="input-error" aria-live="polite">用户名或密码无效。</span>` : "";
  return page(
    "登录 守护",
    `<h1 id="kc-page-title">登录 守护</h1>
<form id="kc-form-login" action="${escapeHtml(options.action)}" method="post">
<label for="username">用户名</label>
<input id="username" name="username" type="text" value="${escapeHtml(options.username ?? "")}" autocomplete="username" autofocus${options.error ? ' aria-invalid="true"' : ""}>
<label for="password">密码</label>
<input id="password" name="password" type="password" autocomplete="current-password"${options.error ? ' aria-invalid="true"' : ""}>
${error}
<input id="kc-login" name="login" type="submit" value="登录">
</form>`,
  );
}

/** Keycloak's login-update-password page (required action UPDATE_PASSWORD): same ids and field names. */
export function updatePasswordPage(options: { action: string; error?: string }): string {
  const error = options.error ? `<span id="input-error-password" class="error" aria-live="polite">${escapeHtml(options.error)}</span>` : "";
  return page(
    "更新密码 · 守护",
    `<h1 id="kc-page-title">更新密码</h1>
<p id="kc-info-message">您需要更改密码。</p>
<form id="kc-passwd-update-form" action="${escapeHtml(options.action)}" method="post">
<label for="password-new">新密码</label>
<input id="password-new" name="password-new" type="password" autocomplete="new-password" autofocus>
<label for="password-confirm">确认密码</label>
<input id="password-confirm" name="password-confirm" type="password" autocomplete="new-password">
${error}
<input name="login" type="submit" value="提交">
</form>`,
  );
}

export function errorPage(message: string): string {
  return page("错误 · 守护", `<h1>出错了</h1><p class="error" id="kc-error-message">${escapeHtml(message)}</p>`);
}

/** Keycloak's logout confirmation (no id_token_hint): a GET alone must not end a session, a same-site POST does. */
export function logoutConfirmPage(action: string, sessionCode: string): string {
  return page(
    "正在登出 · 守护",
    `<h1 id="kc-page-title">正在登出</h1><p>您是否要登出？</p>
<form id="kc-logout-confirm" action="${escapeHtml(action)}" method="post">
<input type="hidden" name="session_code" value="${escapeHtml(sessionCode)}">
<input id="kc-logout" name="confirmLogout" type="submit" value="登出">
</form>`,
  );
}

export function loggedOutPage(): string {
  return page("已登出 · 守护", `<h1 id="kc-page-title">您已登出</h1><p id="kc-info-message">您已登出。</p>`);
}
