// 申请人页面：登录/注册 → 实名认证 → 首登记（表单、上传、保存、提交）→ 审核结果与登记历史。
// 只调用 /api/v1；会话用 HttpOnly Cookie，修改类请求带 X-CSRF-Token。
"use strict";
const API = "/api/v1";
const $ = (id) => document.getElementById(id);
const state = { tables: {}, app: null, cooldown: 0 };

const FIELDS = [
  ["ethnicity", "民族", "ethnicity"], ["political_status", "政治面貌", "political_status"],
  ["education", "学历", "education"], ["major", "所学专业"], ["graduated_from", "毕业院校"],
  ["graduated_on", "毕业时间（如2015-07）"], ["employer", "工作单位"],
  ["employer_category", "单位类别", "employer_category"], ["position", "职务/岗位"],
  ["years_in_social_work", "从事社会工作年限", null, "number"],
  ["service_district", "服务地域", "service_district"], ["service_fields", "服务领域（可多选）", "service_field", "multi"],
  ["mobile", "手机号码"], ["email", "电子邮箱"],
];
const DELIVERY = [["recipient", "收件人"], ["phone", "收件电话"], ["province", "省"], ["city", "市"],
  ["district", "区（县）"], ["address", "详细地址"], ["postcode", "邮政编码"]];
const KINDS = [["id_card_front", "身份证人像面（有照片的一面）"], ["id_card_back", "身份证国徽面"],
  ["certificate", "职业水平证书照片"], ["photo", "两寸免冠照片（413×626像素，底色不限）"]];
const LOCKED = { name: "姓名", id_type: "证件类型", id_number: "证件号码", management_number: "证书管理号",
  cert_level: "级别", exam_year: "考试年度", approval_date: "批准日期", gender: "性别", birth_date: "出生日期" };
const STATES = { DRAFT: "草稿（未提交）", SUBMITTED: "您的登记申请表已提交，请耐心等待审核结果...",
  REJECTED: "审核不通过，请根据审核意见修改后再次提交", APPROVED: "审核通过，登记完成", DISPATCHED: "证书已寄出" };

function cookie(name) {
  const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

async function call(method, path, body, extra) {
  const headers = { "X-CSRF-Token": cookie("csrf"), ...(extra || {}) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(API + path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error((data.error && data.error.message) || "请求失败，请稍后再试"),
    { status: r.status, details: data.error && data.error.details });
  return data;
}

function notice(text) { $("notice").textContent = text || ""; }
function show(id) {
  for (const s of ["login", "identity", "start", "form"]) $(s).hidden = s !== id;
  $("logout").hidden = id === "login";
}
function fail(e) {
  notice(e.message);
  const list = $("errors"); list.textContent = "";
  if (e.details && typeof e.details === "object") {
    for (const [field, msgs] of Object.entries(e.details)) {
      for (const m of [].concat(msgs)) { const li = document.createElement("li"); li.textContent = m; list.append(li); }
    }
  }
}

// --- 登录 / 注册 --------------------------------------------------------------
async function sendCode(purpose) {
  try {
    const a = await call("POST", "/sms-codes", { phone: $("phone").value.trim(), purpose });
    notice("验证码已发送，5分钟内有效");
    state.cooldown = a.cooldown_seconds || 60;
    const b = $("send-code"); b.disabled = true;
    const t = setInterval(() => {
      state.cooldown -= 1; b.textContent = `${state.cooldown}秒后重新获取`;
      if (state.cooldown <= 0) { clearInterval(t); b.disabled = false; b.textContent = "获取验证码"; }
    }, 1000);
  } catch (e) { fail(e); }
}
$("send-code").onclick = () => sendCode($("password").value ? "register" : "login");
$("register").onclick = async () => {
  try {
    await call("POST", "/accounts", { phone: $("phone").value.trim(), code: $("code").value.trim(), password: $("password").value });
    await route();
  } catch (e) { fail(e); }
};
$("login-password").onclick = async () => {
  try { await call("POST", "/sessions", { phone: $("phone").value.trim(), password: $("password").value }); await route(); }
  catch (e) { fail(e); }
};
$("login-code").onclick = async () => {
  try { await call("POST", "/sessions", { phone: $("phone").value.trim(), code: $("code").value.trim() }); await route(); }
  catch (e) { fail(e); }
};
$("logout").onclick = async () => { await call("DELETE", "/sessions/current").catch(() => {}); show("login"); };

// --- 实名认证 --------------------------------------------------------------------
$("verify").onclick = async () => {
  try {
    await call("POST", "/me/identity", { name: $("real-name").value.trim(), id_type: $("id-type").value,
      id_number: $("id-number").value.trim() });
    notice("实名认证成功"); await route();
  } catch (e) { fail(e); }
};

// --- 首登记 ---------------------------------------------------------------------
function options(table, multiple) {
  return (state.tables[table] || []).map((o) => `<option value="${o.code}">${o.label}</option>`).join("");
}
function buildForm() {
  const box = $("fields"); box.innerHTML = "<legend>个人信息</legend>";
  for (const [name, label, table, kind] of FIELDS) {
    const l = document.createElement("label"); l.textContent = label;
    let input;
    if (table) { input = document.createElement("select"); input.innerHTML = (kind === "multi" ? "" : '<option value="">请选择</option>') + options(table); input.multiple = kind === "multi"; }
    else { input = document.createElement("input"); if (kind === "number") input.inputMode = "numeric"; }
    input.id = "f-" + name; l.append(input); box.append(l);
  }
  const d = document.createElement("fieldset"); d.innerHTML = "<legend>取证方式：邮寄（受疫情影响，一律邮寄）</legend>";
  for (const [name, label] of DELIVERY) {
    const l = document.createElement("label"); l.textContent = label;
    const input = document.createElement("input"); input.id = "d-" + name; l.append(input); d.append(l);
  }
  box.append(d);
  const m = $("materials"); m.innerHTML = "<legend>上传材料（JPEG 或 PNG，不超过1MB，图片清晰；上传错误可重新选择）</legend>";
  for (const [kind, label] of KINDS) {
    const div = document.createElement("div"); div.className = "material"; div.id = "m-" + kind;
    div.innerHTML = `<label>${label}<input type="file" accept="image/jpeg,image/png" id="file-${kind}"></label>
      <progress max="100" value="0" hidden></progress><p class="verdict"></p>`;
    m.append(div);
    div.querySelector("input").onchange = (ev) => upload(kind, ev.target.files[0]);
  }
}
function fillForm(app) {
  const f = app.form || {};
  $("locked-list").innerHTML = Object.entries(LOCKED).map(([k, label]) =>
    `<dt>${label}</dt><dd>${f[k] == null ? "" : f[k]}</dd>`).join("");
  for (const [name, , , kind] of FIELDS) {
    const el = $("f-" + name); const v = f[name];
    if (kind === "multi") for (const o of el.options) o.selected = (v || []).includes(o.value);
    else el.value = v == null ? "" : v;
  }
  for (const [name] of DELIVERY) $("d-" + name).value = (f.delivery || {})[name] || "";
  $("attestation").checked = !!f.attestation; $("consent_sensitive").checked = !!f.consent_sensitive;
  for (const [kind] of KINDS) {
    const m = (app.materials || {})[kind]; const p = document.querySelector(`#m-${kind} .verdict`);
    if (m) { p.className = "verdict " + (m.ok ? "ok" : "bad"); p.textContent = m.ok ? "已上传，检查通过" : (m.issues || []).map((i) => i.message || i.reason).join("；"); }
  }
  $("state").textContent = STATES[app.state] || app.state;
  const editable = app.state === "DRAFT" || app.state === "REJECTED";
  for (const el of document.querySelectorAll("#form input, #form select")) el.disabled = !editable;
  $("save").hidden = $("submit").hidden = !editable;
  const dec = $("decision");
  if (app.decision && app.state === "REJECTED") {
    dec.hidden = false;
    dec.innerHTML = "<strong>审核意见：</strong>";
    dec.append(document.createTextNode(app.decision.opinion || ""));
    const ul = document.createElement("ul");
    for (const i of app.decision.material_issues || []) { const li = document.createElement("li"); li.textContent = `${i.kind}：${i.reason}`; ul.append(li); }
    dec.append(ul);
  } else if (app.registration_number) {
    dec.hidden = false; dec.textContent = `登记编号：${app.registration_number}，有效期 ${app.valid_from} 至 ${app.valid_until}`;
  } else dec.hidden = true;
}
function collect() {
  const out = {};
  for (const [name, , , kind] of FIELDS) {
    const el = $("f-" + name);
    if (kind === "multi") out[name] = [...el.selectedOptions].map((o) => o.value);
    else if (kind === "number") out[name] = el.value === "" ? null : Number(el.value);
    else out[name] = el.value;
  }
  out.delivery = { method: "MAIL" };
  for (const [name] of DELIVERY) out.delivery[name] = $("d-" + name).value;
  out.attestation = $("attestation").checked; out.consent_sensitive = $("consent_sensitive").checked;
  return out;
}
function upload(kind, file) {
  if (!file) return;
  const box = $("m-" + kind); const bar = box.querySelector("progress"); const p = box.querySelector(".verdict");
  if (file.size > 1024 * 1024) { p.className = "verdict bad"; p.textContent = `图片为${(file.size / 1048576).toFixed(1)}MB，超过1MB的上限，请压缩后重新上传`; return; }
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", `${API}/applications/${state.app.id}/materials/${kind}`);
  xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
  xhr.setRequestHeader("X-CSRF-Token", cookie("csrf"));
  bar.hidden = false; bar.value = 0; p.textContent = "正在上传…";
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
  xhr.onload = () => {
    bar.hidden = true;
    const data = JSON.parse(xhr.responseText || "{}");
    if (data.verdict) {
      p.className = "verdict " + (data.verdict.ok ? "ok" : "bad");
      p.textContent = data.verdict.ok ? "已上传，检查通过" : data.verdict.issues.map((i) => i.message).join("；");
      if (data.application) state.app = data.application;
    } else { p.className = "verdict bad"; p.textContent = (data.error && data.error.message) || "上传失败，请重试"; }
  };
  xhr.onerror = () => { bar.hidden = true; p.className = "verdict bad"; p.textContent = "网络中断，请重新选择图片上传"; };
  xhr.send(file);
}
$("save").onclick = async () => {
  try { state.app = await call("PATCH", `/applications/${state.app.id}`, collect()); $("errors").textContent = ""; notice("已保存，可以稍后再来完善"); fillForm(state.app); }
  catch (e) { fail(e); }
};
$("submit").onclick = async () => {
  try { state.app = await call("PATCH", `/applications/${state.app.id}`, collect()); $("confirm").showModal(); }
  catch (e) { fail(e); }
};
$("confirm-no").onclick = () => $("confirm").close();
$("confirm-yes").onclick = async () => {
  $("confirm").close(); $("confirm-yes").disabled = true;
  try {
    state.key = state.key || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    state.app = await call("POST", `/applications/${state.app.id}/submit`, undefined, { "Idempotency-Key": state.key });
    state.key = null; $("errors").textContent = ""; notice(STATES.SUBMITTED); fillForm(state.app); await history();
  } catch (e) { fail(e); } finally { $("confirm-yes").disabled = false; }
};
async function history() {
  const items = await call("GET", `/applications/${state.app.id}/history`);
  $("history").innerHTML = "";
  for (const h of items) {
    const li = document.createElement("li");
    li.textContent = `第${h.attempt}次提交 ${h.submitted_at || ""}：${h.decision === "approved" ? "通过" : h.decision === "rejected" ? "不通过 — " + (h.opinion || "") : "待审核"}`;
    $("history").append(li);
  }
}
async function openApplication(campaignId) {
  try {
    state.app = await call("POST", "/applications", { campaign_id: campaignId });
  } catch (e) {
    if (e.status === 409 && e.details && e.details.application_id) state.app = await call("GET", `/applications/${e.details.application_id}`);
    else return fail(e);
  }
  show("form"); fillForm(state.app); await history().catch(() => {});
}

async function route() {
  let me;
  try { me = await call("GET", "/me"); } catch (e) { show("login"); return; }
  notice("");
  if (!me.verified) { show("identity"); return; }
  state.tables = await call("GET", "/code-tables");
  buildForm();
  const campaigns = await call("GET", "/campaigns");
  const list = $("campaigns"); list.innerHTML = "";
  for (const c of campaigns) {
    const b = document.createElement("button"); b.className = "primary"; b.textContent = `${c.name}（${c.window_text || ""}）`;
    b.onclick = () => openApplication(c.id); list.append(b);
  }
  if (!campaigns.length) list.textContent = "当前没有开放的登记批次";
  show("start");
}
route();
