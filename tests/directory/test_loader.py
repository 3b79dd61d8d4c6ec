"""Loading the directory: the demo validates, and every problem names its file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.directory.loader import DirectoryInvalid, load_directory

from .conftest import edit

DEMO_LINES = {
    "amsterdam-centrum": {"belastingdienst", "toeslagen", "uwv", "svb", "duo", "ind", "cjib"},
    "enschede": {"toeslagen", "svb", "duo", "ind", "cak", "cjib", "rdw"},
    "utrecht": {"toeslagen", "svb", "duo", "ind"},
}


def problems(path: Path) -> list[str]:
    with pytest.raises(DirectoryInvalid) as raised:
        load_directory(path)
    return [str(p) for p in raised.value.problems]


def test_demo_directory_models_the_seed(demo):
    assert set(demo.locations) == {"amsterdam-centrum", "amsterdam-nieuw-west", "amsterdam-zuidoost",
                                   "enschede", "utrecht", "nijmegen", "den-bosch"}
    for location_id, partners in DEMO_LINES.items():
        national = {p for p in demo.locations[location_id].lines if demo.partners[p].kind == "national"}
        assert national == partners, location_id
    assert demo.locations["nijmegen"].callbacks_to == "belastingdienst"
    assert demo.locations["enschede"].walk_in and not demo.locations["amsterdam-centrum"].walk_in
    assert {"belastingdienst", "toeslagen", "uwv", "svb", "duo", "ind", "cak", "cjib", "rdw"} <= set(demo.partners)


def test_every_partner_with_a_line_has_sms_and_email_for_handovers(demo):
    with_line = {p for loc in demo.locations.values() for p in loc.lines}
    for partner_id in with_line:
        channels = demo.partners[partner_id].handover
        assert channels.sms and channels.email, partner_id


def test_life_events_list_every_partner_involved(demo):
    eighteen = demo.topics["18-worden"]
    assert eighteen.life_event
    assert {"toeslagen", "duo", "svb", "belastingdienst"} <= set(eighteen.partners)
    assert "18-worden" in demo.partners["duo"].topics


def test_phone_numbers_are_stored_as_e164(demo):
    line = demo.locations["amsterdam-centrum"].lines["svb"]
    assert line.number == "+31880000104" and line.fallback_number == "+31880009904"


def test_unknown_partner_on_a_line_names_file_entry_and_field(demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", "  svb:\n    number:", "  sbv:\n    number:")
    assert "locations/utrecht.yaml, entry 'utrecht', field 'lines.sbv': onbekende partner 'sbv'" in problems(demo_copy)


def test_bad_phone_number(demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", '"+31 88 000 0504"', '"+31 88 000"')
    found = problems(demo_copy)
    assert any(p.startswith("locations/utrecht.yaml, entry 'utrecht', field 'lines.svb.number':") for p in found)


def test_sms_handover_number_must_be_mobile(demo_copy):
    edit(demo_copy / "partners.yaml", 'sms: "+31 6 1000 0004"', 'sms: "+31 88 000 0104"')
    found = problems(demo_copy)
    assert any(p.startswith("partners.yaml, entry 'svb', field 'handover.sms':") and "mobiel" in p for p in found)


def test_overlapping_hours(demo_copy):
    edit(demo_copy / "locations" / "enschede.yaml", 'mon-fri: ["09:00-17:00"]', 'mon-fri: ["09:00-17:00", "16:00-18:00"]')
    found = problems(demo_copy)
    assert any(p.startswith("locations/enschede.yaml, entry 'enschede', field 'presence.weekly':")
               and "overlappen" in p for p in found)


def test_bad_day_and_bad_time(demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", 'mon-fri: ["09:00-17:00"]', 'maandag: ["9-17"]')
    found = problems(demo_copy)
    assert any("field 'presence.weekly'" in p for p in found)


def test_unknown_topic_in_a_life_event(demo_copy):
    edit(demo_copy / "topics.yaml", "includes: [zorgtoeslag, studiefinanciering,", "includes: [zorgtoeslg, studiefinanciering,")
    assert "topics.yaml, entry '18-worden', field 'includes': onbekend onderwerp 'zorgtoeslg'" in problems(demo_copy)


def test_unknown_partner_in_a_topic(demo_copy):
    edit(demo_copy / "topics.yaml", "partners: [svb]", "partners: [sociale-verzekeringsbank]")
    assert "topics.yaml, entry 'aow', field 'partners': onbekende partner 'sociale-verzekeringsbank'" in problems(demo_copy)


def test_duplicate_partner_id(demo_copy):
    edit(demo_copy / "partners.yaml", "  - id: cak\n", "  - id: cjib\n")
    assert "partners.yaml, entry 'cjib', field 'id': deze id komt vaker voor" in problems(demo_copy)


def test_unknown_field_and_missing_field(demo_copy):
    edit(demo_copy / "locations" / "den-bosch.yaml", "walk_in: true", "walkin: true")
    found = problems(demo_copy)
    assert any(p.startswith("locations/den-bosch.yaml, entry 'den-bosch', field 'walkin':") for p in found)
    assert any(p.startswith("locations/den-bosch.yaml, entry 'den-bosch', field 'walk_in':") for p in found)


def test_location_id_must_match_its_file_name(demo_copy):
    edit(demo_copy / "locations" / "nijmegen.yaml", "id: nijmegen", "id: arnhem")
    assert any("field 'id'" in p and "nijmegen" in p for p in problems(demo_copy))


def test_callbacks_to_must_be_a_partner(demo_copy):
    edit(demo_copy / "locations" / "nijmegen.yaml", "callbacks_to: belastingdienst", "callbacks_to: steunpunt")
    assert any("field 'callbacks_to'" in p for p in problems(demo_copy))


def test_yaml_syntax_error_names_the_file(demo_copy):
    (demo_copy / "laws.yaml").write_text("laws: [\n", encoding="utf-8")
    assert any(p.startswith("laws.yaml: geen geldige YAML") for p in problems(demo_copy))


def test_all_problems_are_reported_at_once(demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", '"+31 88 000 0504"', '"12345"')
    edit(demo_copy / "topics.yaml", "partners: [svb]", "partners: [nobody]")
    found = problems(demo_copy)
    assert any("utrecht.yaml" in p for p in found) and any("topics.yaml" in p for p in found)


def test_missing_folder():
    with pytest.raises(DirectoryInvalid):
        load_directory("/nonexistent/directory")


def test_inbound_numbers_are_e164_and_one_per_location(demo, demo_copy):
    assert demo.locations["utrecht"].inbound_number == "+31610000305"
    assert len({loc.inbound_number for loc in demo.locations.values()}) == len(demo.locations)
    edit(demo_copy / "locations" / "enschede.yaml", '"+31 6 1000 0304"', '"+31 6 1000 0305"')
    edit(demo_copy / "locations" / "nijmegen.yaml", '"+31 6 1000 0306"', '"06-1234"')
    found = problems(demo_copy)
    assert ("locations/utrecht.yaml, entry 'utrecht', field 'inbound_number': "
            "+31610000305 is al het nummer van locatie 'enschede'") in found
    assert "locations/nijmegen.yaml, entry 'nijmegen', field 'inbound_number': '06-1234' is geen geldig telefoonnummer." \
        in found


def test_every_message_is_dutch(demo_copy):
    """marshmallow's own messages are English; the directory's problems are all in Dutch."""
    edit(demo_copy / "locations" / "den-bosch.yaml", "walk_in: true", "walk_in: misschien\nparking: true")
    edit(demo_copy / "locations" / "den-bosch.yaml", "name:", "nam:")
    edit(demo_copy / "locations" / "den-bosch.yaml", "municipality: \"'s-Hertogenbosch\"", 'municipality: ""')
    found = [p for p in problems(demo_copy) if p.startswith("locations/den-bosch.yaml")]
    assert "locations/den-bosch.yaml, entry 'den-bosch', field 'walk_in': Schrijf true of false." in found
    assert "locations/den-bosch.yaml, entry 'den-bosch', field 'parking': Dit veld bestaat niet." in found
    assert "locations/den-bosch.yaml, entry 'den-bosch', field 'name': Ontbreekt." in found
    assert "locations/den-bosch.yaml, entry 'den-bosch', field 'municipality': Mag niet leeg zijn." in found


def test_a_wrong_field_does_not_hide_an_unknown_partner_in_the_same_file(demo_copy):
    edit(demo_copy / "locations" / "utrecht.yaml", "walk_in: true", "walk_in: soms")
    edit(demo_copy / "locations" / "utrecht.yaml", "  svb:", "  svbx:")
    found = [p for p in problems(demo_copy) if p.startswith("locations/utrecht.yaml")]
    assert "locations/utrecht.yaml, entry 'utrecht', field 'walk_in': Schrijf true of false." in found
    assert "locations/utrecht.yaml, entry 'utrecht', field 'lines.svbx': onbekende partner 'svbx'" in found


def test_call_languages_are_codes_babel_can_name(demo, demo_copy):
    assert demo.locations["utrecht"].all_call_languages == ("nl", "en", "tr", "ar")
    assert demo.locations["enschede"].all_call_languages == ("nl", "en")
    edit(demo_copy / "locations" / "utrecht.yaml", "call_languages: [tr, ar]", "call_languages: [li, TR, nl_BE]")
    edit(demo_copy / "locations" / "enschede.yaml", "walk_in: true", "walk_in: true\ncall_languages: [en]")
    found = problems(demo_copy)
    assert ("locations/utrecht.yaml, entry 'utrecht', field 'call_languages': Onbekende taalcode 'TR', 'nl_BE'. "
            "Gebruik een ISO 639-code, zoals tr of ar.") in found  # "li" (Limburgs) is one; nl_BE is a locale
    assert ("locations/enschede.yaml, entry 'enschede', field 'call_languages': 'en' staat er altijd al bij "
            "(Nederlands en Engels).") in found


# --- one run names every problem: the checks across files run whatever else is wrong ------------------------

def test_a_number_used_twice_is_named_even_when_the_file_has_other_problems(demo_copy):
    # Utrecht takes Enschede's number, and has a wrong field besides: it does not load, yet both are named.
    edit(demo_copy / "locations" / "utrecht.yaml", '"+31 6 1000 0305"', '"+31 6 1000 0304"')
    edit(demo_copy / "locations" / "utrecht.yaml", "walk_in: true", "walk_in: soms")
    found = [p for p in problems(demo_copy) if p.startswith("locations/utrecht.yaml")]
    assert "locations/utrecht.yaml, entry 'utrecht', field 'walk_in': Schrijf true of false." in found
    assert ("locations/utrecht.yaml, entry 'utrecht', field 'inbound_number': "
            "+31610000304 is al het nummer van locatie 'enschede'") in found


def test_handover_checks_run_when_other_files_have_problems(demo_copy):
    # A partner's handover without any channel, and an override for a location that does not exist...
    edit(demo_copy / "partners.yaml", 'handover: {sms: "+31 6 1000 0006", email: loketlijn@ind.example.org}',
         "handover: {}")
    edit(demo_copy / "partners.yaml", "      nijmegen: {sms:", "      nijmgen: {sms:")
    # ...next to a problem in a location file.
    edit(demo_copy / "locations" / "utrecht.yaml", "walk_in: true", "walk_in: soms")
    found = problems(demo_copy)
    assert "locations/utrecht.yaml, entry 'utrecht', field 'walk_in': Schrijf true of false." in found
    assert ("partners.yaml, entry 'belastingdienst', field 'handover_by_location.nijmgen': "
            "onbekende locatie 'nijmgen'") in found
    assert "partners.yaml, entry 'ind', field 'handover': geen SMS-nummer of e-mailadres voor enschede" in found


def test_a_location_with_problems_of_its_own_is_not_called_unknown(demo_copy):
    # Belastingdienst has a handover override for Nijmegen: Nijmegen's own problem is named, not "unknown".
    edit(demo_copy / "locations" / "nijmegen.yaml", "walk_in: false", "walk_in: soms")
    found = problems(demo_copy)
    assert any(p.startswith("locations/nijmegen.yaml, entry 'nijmegen', field 'walk_in'") for p in found)
    assert not [p for p in found if "onbekende locatie 'nijmegen'" in p]


def test_a_partner_with_a_problem_of_its_own_is_not_called_unknown_everywhere(demo_copy):
    edit(demo_copy / "partners.yaml", 'sms: "+31 6 1000 0004"', 'sms: "+31 88 000 0104"')  # svb: not mobile
    found = problems(demo_copy)
    assert [p for p in found if p.startswith("partners.yaml, entry 'svb'")]
    assert not [p for p in found if "onbekende partner 'svb'" in p]


def test_an_e_mail_address_problem_is_dutch_too(demo_copy):
    # fields.Email builds its check with marshmallow's English message before ours are set.
    edit(demo_copy / "partners.yaml", "email: loketlijn@cak.example.org", "email: not-an-address")
    assert "partners.yaml, entry 'cak', field 'handover.email': Geen geldig e-mailadres." in problems(demo_copy)
