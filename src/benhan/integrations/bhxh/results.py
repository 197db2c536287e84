"""Result codes (``maKetQua``) of the BHXH card-check service, with bilingual messages.

The table is the one in ``shared/domain/identifiers.md`` §1.5 (BHXH annex "Hàm API tra cứu thông
tuyến" 2024, error list mirrored in vendor configuration). Which of 120–124 means which kind of
"báo giảm" is inferred from the order the notes list them (unverified); 124 is kept generic.
"""

from __future__ import annotations

from enum import StrEnum


class CardStatus(StrEnum):
    """What check-in should do with a result."""

    OK = "ok"  # the card can be used
    CHECK = "check"  # usable, but staff must look at the card, papers or the new card first
    REFUSED = "refused"  # the card cannot be used as entered (wrong data, expired, revoked, ...)
    ERROR = "error"  # the lookup itself failed (our credentials/staff, parameters, or the gateway)


class CardResult(StrEnum):
    """``maKetQua`` of ``KQNhanLichSuKCB2024``."""

    VALID = "000"
    MINISTRY_OF_DEFENCE = "001"
    MINISTRY_OF_PUBLIC_SECURITY = "002"
    OLD_EXPIRED_NEW_ISSUED = "003"
    OLD_VALID_NEW_ISSUED = "004"
    EXPIRED = "010"
    NO_CARD = "050"
    WRONG_CARD_CODE = "051"
    WRONG_PROVINCE = "052"
    WRONG_BENEFIT = "053"
    STAFF_NOT_REGISTERED = "054"
    STAFF_NAME_MISMATCH = "055"
    WRONG_NAME = "060"
    WRONG_NAME_FIRST_LETTER_RIGHT = "061"
    WRONG_BIRTH_DATE = "070"
    DATA_RETRIEVAL_ERROR = "100"
    SERVER_ERROR = "101"
    REVOKED = "110"
    REDUCED_MOVED_OUT_OF_PROVINCE = "120"
    REDUCED_WITHIN_PROVINCE = "121"
    REDUCED_REENROLLED_SAME_UNIT = "122"
    REDUCED_STOPPED = "123"
    REDUCED_OTHER = "124"
    CHILD_WITHOUT_CARD = "130"
    PARAMETER_FORMAT = "205"
    AUTHENTICATION = "401"

    @property
    def vi(self) -> str:
        return _MESSAGES[self][1]

    @property
    def en(self) -> str:
        return _MESSAGES[self][2]

    @property
    def status(self) -> CardStatus:
        return _MESSAGES[self][0]

    @property
    def message(self) -> str:
        return f"{self.vi} / {self.en}"


_OK, _CHECK, _REFUSED, _ERROR = CardStatus.OK, CardStatus.CHECK, CardStatus.REFUSED, CardStatus.ERROR
_REDUCED = "Thẻ đã bị báo giảm"
_MESSAGES: dict[CardResult, tuple[CardStatus, str, str]] = {
    CardResult.VALID: (_OK, "Thông tin thẻ chính xác", "Card information is correct"),
    CardResult.MINISTRY_OF_DEFENCE: (
        _CHECK, "Thẻ do BHXH Bộ Quốc phòng quản lý: kiểm tra thẻ và giấy tờ tùy thân",
        "Card managed by the Ministry of Defence social insurance: check the card and ID papers"),
    CardResult.MINISTRY_OF_PUBLIC_SECURITY: (
        _CHECK, "Thẻ do BHXH Bộ Công an quản lý: kiểm tra thẻ và giấy tờ tùy thân",
        "Card managed by the Ministry of Public Security social insurance: check the card and ID papers"),
    CardResult.OLD_EXPIRED_NEW_ISSUED: (
        _CHECK, "Thẻ cũ hết giá trị, đã được cấp thẻ mới: dùng thẻ mới",
        "Old card expired and a new card was issued: use the new card"),
    CardResult.OLD_VALID_NEW_ISSUED: (
        _CHECK, "Thẻ cũ còn giá trị, đã được cấp thẻ mới",
        "Old card still valid and a new card was issued"),
    CardResult.EXPIRED: (_REFUSED, "Thẻ hết giá trị sử dụng", "Card expired"),
    CardResult.NO_CARD: (_REFUSED, "Không có thông tin thẻ", "No card information"),
    CardResult.WRONG_CARD_CODE: (_REFUSED, "Mã thẻ không đúng", "Card code wrong"),
    CardResult.WRONG_PROVINCE: (
        _REFUSED, "Mã tỉnh cấp thẻ (ký tự 4, 5 của mã thẻ) không đúng",
        "Province code (characters 4–5 of the card code) wrong"),
    CardResult.WRONG_BENEFIT: (
        _REFUSED, "Mã quyền lợi (ký tự thứ 3 của mã thẻ) không đúng",
        "Benefit code (character 3 of the card code) wrong"),
    CardResult.STAFF_NOT_REGISTERED: (
        _ERROR, "CCCD của cán bộ tra cứu không có trong danh sách người dùng đã đăng ký của cơ sở KCB",
        "The lookup staff's CCCD is not in the facility's registered user list"),
    CardResult.STAFF_NAME_MISMATCH: (
        _ERROR, "Họ tên cán bộ tra cứu không khớp với số CCCD",
        "The lookup staff's name does not match their CCCD"),
    CardResult.WRONG_NAME: (_REFUSED, "Họ tên không đúng", "Wrong name"),
    CardResult.WRONG_NAME_FIRST_LETTER_RIGHT: (
        _REFUSED, "Họ tên không đúng (đúng ký tự đầu)", "Wrong name (first letter right)"),
    CardResult.WRONG_BIRTH_DATE: (_REFUSED, "Ngày sinh không đúng", "Wrong date of birth"),
    CardResult.DATA_RETRIEVAL_ERROR: (
        _ERROR, "Lỗi khi lấy dữ liệu số thẻ", "Error retrieving the card data"),
    CardResult.SERVER_ERROR: (_ERROR, "Lỗi máy chủ cổng BHXH", "BHXH gateway server error"),
    CardResult.REVOKED: (_REFUSED, "Thẻ đã bị thu hồi", "Card revoked"),
    CardResult.REDUCED_MOVED_OUT_OF_PROVINCE: (
        _REFUSED, f"{_REDUCED} (chuyển ngoại tỉnh)", "Card reported reduced (moved out of the province)"),
    CardResult.REDUCED_WITHIN_PROVINCE: (
        _REFUSED, f"{_REDUCED} (chuyển nội tỉnh)", "Card reported reduced (moved within the province)"),
    CardResult.REDUCED_REENROLLED_SAME_UNIT: (
        _REFUSED, f"{_REDUCED} (tăng lại cùng đơn vị)", "Card reported reduced (re-enrolled with the same unit)"),
    CardResult.REDUCED_STOPPED: (
        _REFUSED, f"{_REDUCED} (dừng tham gia)", "Card reported reduced (stopped participating)"),
    CardResult.REDUCED_OTHER: (_REFUSED, _REDUCED, "Card reported reduced"),
    CardResult.CHILD_WITHOUT_CARD: (
        _CHECK, "Trẻ em không xuất trình thẻ", "Child did not present the card"),
    CardResult.PARAMETER_FORMAT: (
        _ERROR, "Lỗi định dạng tham số tra cứu", "Lookup parameter format error"),
    CardResult.AUTHENTICATION: (
        _ERROR, "Lỗi xác thực tài khoản tra cứu cổng BHXH", "BHXH gateway authentication error"),
}
