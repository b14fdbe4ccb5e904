from services.registration.domain import codes


def test_every_table_is_code_and_label_pairs():
    tables = codes.all_tables()
    assert set(tables) == set(codes.TABLES)
    for name, rows in tables.items():
        assert rows, name
        assert all(set(row) == {"code", "label"} for row in rows)
        assert len({row["code"] for row in rows}) == len(rows), f"duplicate code in {name}"


def test_all_tables_hands_out_copies():
    codes.all_tables()["ethnicity"].clear()
    assert len(codes.all_tables()["ethnicity"]) == 58


def test_ethnicity_follows_gb_t_3304():
    table = dict(codes.ETHNICITY)
    assert table["01"] == "汉族" and table["11"] == "满族" and table["56"] == "基诺族"
    assert table["97"] == "其他" and table["98"] == "外国血统中国籍人士"
    assert [c for c, _ in codes.ETHNICITY][:56] == [f"{i:02d}" for i in range(1, 57)]


def test_political_status_follows_gb_t_4762():
    assert dict(codes.POLITICAL_STATUS) == {
        "01": "中共党员", "02": "中共预备党员", "03": "共青团员", "04": "民革会员", "05": "民盟盟员",
        "06": "民建会员", "07": "民进会员", "08": "农工党党员", "09": "致公党党员", "10": "九三学社社员",
        "11": "台盟盟员", "12": "无党派人士", "13": "群众"}


def test_sixteen_districts_without_the_merged_ones():
    districts = dict(codes.SERVICE_DISTRICT)
    assert len(districts) == 16
    assert districts["110101"] == "东城区" and districts["110119"] == "延庆区"
    assert "110103" not in districts and "110104" not in districts


def test_service_fields_are_the_sixteen_national_ones_plus_other():
    labels = [label for _, label in codes.SERVICE_FIELD]
    assert len(labels) == 17 and labels[-1] == "其他"
    assert {"社会救助", "禁毒戒毒", "应急处置"} <= set(labels)


def test_levels_kinds_and_delivery_labels():
    assert codes.label_of("cert_level", "ASSISTANT").startswith("助理社会工作师")
    assert "初级" in codes.label_of("cert_level", "ASSISTANT")
    assert "中级" in codes.label_of("cert_level", "INTERMEDIATE")
    assert codes.codes_of("cert_level") == {"ASSISTANT", "INTERMEDIATE", "SENIOR"}
    assert dict(codes.REGISTRATION_KIND) == {"FIRST": "首次登记", "RENEWAL": "再登记", "LATE": "补登记",
                                             "REISSUE": "补证"}
    assert dict(codes.DELIVERY_METHOD) == {"MAIL": "邮寄", "PICKUP": "自取"}
    assert dict(codes.MATERIAL_KIND) == {"id_card_front": "身份证人像面", "id_card_back": "身份证国徽面",
                                         "certificate": "职业水平证书", "photo": "两寸免冠照片"}
    assert codes.label_of("education", "NOPE") is None
