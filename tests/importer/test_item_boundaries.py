"""Where one work item ends and the next begins: the genre's ways of stating deliverables.

The sentences are of the kind every work report has (most from reports outside the seed); a
department owns one deliverable, so an item is neither one comma nor a whole paragraph.
"""

import pytest

from tasks_app.importer.items import items_into


def items(sentence: str) -> list[str]:
    area = {"tasks": []}
    items_into(area, sentence, only_targets=False)
    return [task["title"] for task in area["tasks"]]


def test_a_second_clause_that_opens_a_project_of_its_own_is_a_separate_item():
    assert items("推动国家癌症中心深圳医院建设，规划建设新一代卫生医疗重大基础设施。") == [
        "推动国家癌症中心深圳医院建设",
        "规划建设新一代卫生医疗重大基础设施",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "积极发展金融业，加大力度引进银行、基金、保险等金融机构入驻新区。",  # an aim
        "坚持教育优先发展，加快推进教育现代化，厚植人民幸福之本。",  # a stance
        "扩大重点区域投资，加快推进腾讯音乐、京东总部等项目建设。",  # a short theme
        "把医疗卫生事业发展作为民生保障的重中之重，加快推进“三名”工程。",
    ],
)
def test_the_measure_after_an_aim_a_stance_or_a_theme_belongs_to_it(sentence):
    assert len(items(sentence)) == 1


def test_every_clause_of_a_sentence_framed_by_yi_wei_works_under_the_frame():
    measures = "完善廉政风险防控机制，加大源头治腐力度，坚决查处腐败案件，保持高压态势。"
    assert len(items(measures)) == 2
    assert len(items("以制度建设为重点，" + measures)) == 1


def test_a_purpose_stays_with_its_measures_unless_it_names_a_measurable_result():
    purpose = "加强贫困户动态管理，深化精准分类施策，确保扶贫路上不漏一户、不落一人。"
    assert len(items(purpose)) == 1
    result = "落实积极就业政策，加强职业技能培训，确保全年城镇登记失业率控制在3%以下。"
    assert items(result)[1] == "确保全年城镇登记失业率控制在3%以下"


def test_what_a_supported_party_does_stays_with_the_support_until_another_party_is_named():
    supported = "支持企业在欧美创新资源密集地区，规划建设10个海外创新中心，引进一批高端研发团队。"
    assert len(items(supported)) == 1
    another = "鼓励企业设立海外研究中心，引进高端研发团队，支持高校与港澳共建联合实验室。"
    assert items(another)[1] == "支持高校与港澳共建联合实验室"


def test_a_clause_that_completes_a_project_is_a_milestone_of_its_own():
    assert len(items("推动综合粒子设施主体工程动工，支持龙头企业投资建设专用实验线站。")) == 2
    assert len(items("推动综合粒子设施主体工程前期研究，支持龙头企业投资建设专用实验线站。")) == 1
