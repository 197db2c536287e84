"""Imaging and ECG: a ServiceRequest and a DiagnosticReport with a conclusion in Vietnamese.

Study codes are LOINC radiology codes as listed in the FHIR R4 value sets (shared/data/fhir-r4);
conclusions are short typical report sentences for the diagnosis that motivated the study (our text).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .timefmt import fhir_datetime

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"


@dataclass(frozen=True, slots=True)
class Study:
    key: str
    loinc: str
    display: str
    text: str
    section: str  # v2-0074 diagnostic service section: RAD (radiology), EC (electrocardiac), CUS (cardiac US)
    normal: str  # conclusion when nothing is found


STUDIES: dict[str, Study] = {s.key: s for s in (
    Study("xq_nguc", "30745-4", "Chest X-ray", "Chụp X-quang ngực thẳng", "RAD", "Hình ảnh tim phổi bình thường."),
    Study("sa_bung", "24558-9", "Abdomen US", "Siêu âm ổ bụng tổng quát", "RAD",
          "Gan, mật, tụy, lách, hai thận chưa phát hiện bất thường."),
    Study("ct_so", "24725-4", "Head CT", "Chụp CT sọ não không tiêm thuốc cản quang", "RAD",
          "Không thấy hình ảnh chảy máu hay tổn thương khu trú trong sọ."),
    Study("xq_goi", "28565-0", "Knee X-ray", "Chụp X-quang khớp gối thẳng, nghiêng", "RAD",
          "Cấu trúc xương khớp gối chưa phát hiện bất thường."),
    Study("xq_cstl", "24972-2", "Spine Lumbar X-ray", "Chụp X-quang cột sống thắt lưng thẳng, nghiêng", "RAD",
          "Cột sống thắt lưng chưa phát hiện bất thường."),
    Study("xq_cangtay", "24891-4", "Radius and Ulna X-ray", "Chụp X-quang xương cẳng tay", "RAD",
          "Không thấy hình ảnh gãy xương."),
    Study("xq_cangchan", "25011-8", "Tibia and Fibula X-ray", "Chụp X-quang xương cẳng chân", "RAD",
          "Không thấy hình ảnh gãy xương."),
    Study("xq_hang", "24762-7", "Hip X-ray", "Chụp X-quang khớp háng", "RAD", "Khớp háng chưa phát hiện bất thường."),
    Study("sa_thai", "11525-3", "US Pelvis and Fetus for pregnancy", "Siêu âm thai", "RAD",
          "Một thai sống trong buồng tử cung, tim thai đều, nước ối bình thường."),
    Study("sa_tim", "42148-7", "Heart US", "Siêu âm tim", "CUS",
          "Các buồng tim không giãn, chức năng tâm thu thất trái bảo tồn (EF 64%)."),
    Study("ecg", "11524-6", "EKG study", "Điện tim thường", "EC", "Nhịp xoang đều, không thấy biến đổi ST-T."),
)}

# (study, ICD-10 code) -> conclusion when the study shows the disease.
FINDINGS: dict[tuple[str, str], str] = {
    ("xq_nguc", "J18.9"): "Đám mờ không đồng nhất thùy dưới phổi phải, phù hợp hình ảnh viêm phổi.",
    ("xq_nguc", "J20.9"): "Tăng đậm rốn phổi hai bên, theo dõi viêm phế quản.",
    ("xq_nguc", "J44.1"): "Phổi tăng sáng, vòm hoành dẹt, hình ảnh phù hợp bệnh phổi tắc nghẽn mạn tính.",
    ("xq_nguc", "J44.9"): "Phổi tăng sáng, vòm hoành dẹt, hình ảnh phù hợp bệnh phổi tắc nghẽn mạn tính.",
    ("xq_nguc", "I50.9"): "Bóng tim to, chỉ số tim - ngực 0,58; tái phân bố tuần hoàn phổi.",
    ("sa_bung", "K76.0"): "Gan tăng âm, nhu mô đều, phù hợp gan nhiễm mỡ độ I.",
    ("sa_bung", "K80.1"): "Túi mật thành dày 5mm, trong lòng có sỏi 12mm, phù hợp viêm túi mật do sỏi.",
    ("sa_bung", "N20.0"): "Thận phải có sỏi đài dưới kích thước 8mm, đài bể thận không giãn.",
    ("sa_bung", "K35.8"): "Ruột thừa đường kính 9mm, thành dày, thâm nhiễm mỡ xung quanh: viêm ruột thừa cấp.",
    ("sa_bung", "A97.1"): "Dịch tự do ổ bụng lượng ít, thành túi mật dày.",
    ("ct_so", "I63.9"): "Vùng giảm tỷ trọng nhân bèo bán cầu não trái, phù hợp nhồi máu não.",
    ("xq_goi", "M17.9"): "Hẹp khe khớp gối, gai xương bờ mâm chày, phù hợp thoái hóa khớp gối.",
    ("xq_cstl", "M47.9"): "Gai xương thân đốt sống L3-L5, hẹp nhẹ khe đĩa đệm L4-L5.",
    ("xq_cstl", "M54.5"): "Gai xương nhỏ bờ thân đốt sống L4, L5.",
    ("xq_cangtay", "S52.5"): "Gãy đầu dưới xương quay, di lệch ít.",
    ("xq_cangchan", "S82.2"): "Gãy chéo 1/3 giữa thân xương chày, di lệch.",
    ("xq_hang", "S72.0"): "Gãy cổ xương đùi, di lệch.",
    ("sa_thai", "O26.9"): "Một thai sống trong buồng tử cung, tim thai đều, nước ối bình thường.",
    ("sa_tim", "I50.9"): "Giãn thất trái, giảm vận động lan tỏa, phân suất tống máu EF 38%.",
    ("sa_tim", "I25.9"): "Rối loạn vận động vùng thành dưới thất trái, EF 52%.",
    ("sa_tim", "I10"): "Dày đồng tâm thất trái nhẹ, chức năng tâm thu bảo tồn (EF 62%).",
    ("ecg", "I21.9"): "Nhịp xoang, ST chênh lên DII, DIII, aVF: phù hợp nhồi máu cơ tim cấp thành dưới.",
    ("ecg", "I25.9"): "Nhịp xoang, sóng T dẹt các chuyển đạo trước bên.",
    ("ecg", "I10"): "Nhịp xoang, dày thất trái theo tiêu chuẩn Sokolow-Lyon.",
}


def imaging_order(rng: random.Random, study_key: str, diagnosis: str | None, *, new_id: Any, patient_ref: str,
                  encounter_ref: str, requester: dict[str, str], reader: dict[str, str], ordered: datetime,
                  priority: str = "routine") -> list[dict[str, Any]]:
    """ServiceRequest + final DiagnosticReport (with conclusion) for one study."""
    study = STUDIES[study_key]
    code = {"coding": [{"system": LOINC, "code": study.loinc, "display": study.display}], "text": study.text}
    performed = ordered + timedelta(minutes=rng.randint(10, 90))
    issued = performed + timedelta(minutes=rng.randint(15, 120))
    conclusion = FINDINGS.get((study_key, diagnosis or ""), study.normal)
    sr_id = new_id()
    category = ({"coding": [{"system": SNOMED, "code": "363679005", "display": "Imaging"}],
                 "text": "Chẩn đoán hình ảnh"} if study.section != "EC" else {"text": "Thăm dò chức năng"})
    return [
        {"resourceType": "ServiceRequest", "id": sr_id, "status": "completed", "intent": "order",
         "category": [category], "priority": priority, "code": code, "subject": {"reference": patient_ref},
         "encounter": {"reference": encounter_ref}, "authoredOn": fhir_datetime(ordered), "requester": requester},
        {"resourceType": "DiagnosticReport", "id": new_id(), "basedOn": [{"reference": f"ServiceRequest/{sr_id}"}],
         "status": "final", "category": [{"coding": [{"system": V2_0074, "code": study.section}]}],
         "code": code, "subject": {"reference": patient_ref}, "encounter": {"reference": encounter_ref},
         "effectiveDateTime": fhir_datetime(performed), "issued": fhir_datetime(issued),
         "performer": [reader], "resultsInterpreter": [reader], "conclusion": conclusion},
    ]
