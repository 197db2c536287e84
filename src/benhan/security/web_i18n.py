"""Strings of the login, account and consent pages: Vietnamese first, English available.

One small catalog (``key -> (vi, en)``) so that every page says the same thing the same way.
The language comes from ``?lang=vi|en``, then the ``benhan_lang`` cookie, then Accept-Language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

LANGS = ("vi", "en")
LANG_COOKIE = "benhan_lang"

CATALOG: dict[str, tuple[str, str]] = {
    "app": ("Bệnh Án", "Bệnh Án"),
    "switch": ("English", "Tiếng Việt"),
    "login.title": ("Đăng nhập", "Sign in"),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    "login.totp": ("Mã xác thực hai lớp (nếu có)", "One-time code (if enrolled)"),
    "login.submit": ("Đăng nhập", "Sign in"),
    "login.for_app": ("Ứng dụng “{app}” yêu cầu bạn đăng nhập", "The application “{app}” asks you to sign in"),
    "account.title": ("Tài khoản", "Account"),
    "account.signed_in": ("Đang đăng nhập: {user}", "Signed in as {user}"),
    "account.roles": ("Vai trò", "Roles"),
    "account.totp_on": ("Xác thực hai lớp: đã bật", "Two-factor authentication: on"),
    "account.totp_off": ("Xác thực hai lớp: chưa bật", "Two-factor authentication: off"),
    "logout": ("Đăng xuất", "Sign out"),
    "logout.all": ("Đăng xuất khỏi mọi thiết bị", "Sign out everywhere"),
    "logout.done": ("Bạn đã đăng xuất", "You have signed out"),
    "logout.all_done": ("Đã đăng xuất khỏi mọi thiết bị", "Signed out on every device"),
    "expired": ("Phiên làm việc đã hết hạn, hãy đăng nhập lại", "Your session has expired; please sign in again"),
    "password.title": ("Đổi mật khẩu", "Change password"),
    "password.forced": ("Bạn phải đổi mật khẩu trước khi tiếp tục", "You must change your password to continue"),
    "password.current": ("Mật khẩu hiện tại", "Current password"),
    "password.new": ("Mật khẩu mới", "New password"),
    "password.repeat": ("Nhập lại mật khẩu mới", "Repeat the new password"),
    "password.mismatch": ("Hai lần nhập mật khẩu mới không khớp", "The two new passwords differ"),
    "password.rules": ("Ít nhất {n} ký tự, không phải mật khẩu phổ biến, không chứa tên của bạn",
                       "At least {n} characters, not a common password, not containing your name"),
    "password.done": ("Đã đổi mật khẩu; các phiên đăng nhập khác đã bị đăng xuất",
                      "Password changed; your other sessions were signed out"),
    "totp.title": ("Xác thực hai lớp (TOTP)", "Two-factor authentication (TOTP)"),
    "totp.explain": ("Dùng ứng dụng xác thực (Google Authenticator, Microsoft Authenticator…) để quét hoặc nhập "
                     "mã bí mật dưới đây. Mã cũ (nếu có) sẽ không còn dùng được.",
                     "Add the secret below to an authenticator app (Google Authenticator, Microsoft "
                     "Authenticator…). Any previous secret stops working."),
    "totp.confirm_password": ("Nhập mật khẩu để đăng ký mã mới", "Enter your password to enrol a new secret"),
    "totp.enrol": ("Tạo mã bí mật mới", "Create a new secret"),
    "totp.secret": ("Mã bí mật", "Secret"),
    "totp.uri": ("Địa chỉ otpauth", "otpauth URI"),
    "totp.done": ("Đã đăng ký; lần đăng nhập sau cần mã sáu chữ số từ ứng dụng",
                  "Enrolled; your next sign-in needs the six-digit code from the app"),
    "totp.wrong_password": ("Mật khẩu không đúng", "Wrong password"),
    "csrf": ("Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang", "The form expired or is invalid; reload"),
    "consent.title": ("Cấp quyền cho ứng dụng", "Authorize an application"),
    "consent.intro": ("Ứng dụng “{app}” xin các quyền sau:", "The application “{app}” asks for:"),
    "consent.patient": ("Người bệnh: {patient}", "Patient: {patient}"),
    "consent.allow": ("Đồng ý", "Allow"),
    "picker.title": ("Chọn người bệnh", "Choose a patient"),
    "picker.intro": ("Ứng dụng “{app}” cần mở hồ sơ của một người bệnh. Chọn người bệnh:",
                     "The application “{app}” needs a patient's record. Choose the patient:"),
    "picker.search": ("Tìm theo tên hoặc mã người bệnh", "Search by name or patient code"),
    "picker.find": ("Tìm", "Search"),
    "picker.choose": ("Chọn", "Choose"),
    "picker.none": ("Không tìm thấy người bệnh nào bạn được xem", "No patient you may see was found"),
    "picker.encounter_title": ("Chọn lượt khám", "Choose an encounter"),
    "picker.encounter_intro": ("Ứng dụng “{app}” cần một lượt khám của người bệnh {patient}. Chọn lượt khám:",
                               "The application “{app}” needs an encounter of patient {patient}. Choose it:"),
    "picker.encounter_none": ("Không có lượt khám nào bạn được xem", "No encounter you may see"),
    "consent.encounter": ("Lượt khám: {encounter}", "Encounter: {encounter}"),
    "gender.male": ("nam", "male"),
    "gender.female": ("nữ", "female"),
    "gender.other": ("khác", "other"),
    "gender.unknown": ("không rõ", "unknown"),
    "consent.deny": ("Từ chối", "Deny"),
    "error.title": ("Không thực hiện được", "Request refused"),
    "scope.read": ("đọc", "read"),
    "scope.c": ("tạo", "create"),
    "scope.r": ("đọc", "read"),
    "scope.u": ("sửa", "update"),
    "scope.d": ("xoá", "delete"),
    "scope.s": ("tìm kiếm", "search"),
    "scope.all_types": ("mọi loại dữ liệu", "all kinds of data"),
    "scope.ctx.patient": ("của người bệnh được chọn", "of the selected patient"),
    "scope.ctx.user": ("mà bạn được phép truy cập", "that you may access"),
    "scope.ctx.system": ("của cả bệnh viện", "of the whole hospital"),
    "scope.openid": ("Biết bạn là ai (họ tên, vai trò)", "Know who you are (name, role)"),
    "scope.fhirUser": ("Biết hồ sơ người dùng FHIR của bạn", "Know your FHIR user record"),
    "scope.profile": ("Biết hồ sơ của bạn", "Know your profile"),
    "scope.launch/patient": ("Biết người bệnh đang được chọn", "Know which patient is selected"),
    "scope.offline_access": ("Tiếp tục truy cập khi bạn không dùng ứng dụng", "Keep access while you are away"),
    "scope.online_access": ("Tiếp tục truy cập trong khi bạn dùng ứng dụng", "Keep access while you use the app"),
}


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """``vi`` unless English is asked for (query, cookie, or preferred over Vietnamese in Accept-Language)."""
    for value in (query, cookie):
        if value in LANGS:
            return value
    best, best_q = "vi", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best


def translator(lang: str, catalog: Mapping[str, tuple[str, str]] = CATALOG) -> Callable[..., str]:
    """``t("key", name=value)`` in ``lang``; an unknown key is returned as is (visible, not hidden)."""
    index = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        entry = catalog.get(key)
        text = entry[index] if entry else key
        return text.format(**values) if values else text

    return t
