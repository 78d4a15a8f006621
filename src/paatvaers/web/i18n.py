"""A small dictionary-based translation layer: Danish first, English second.

The product name is a proper noun and is never translated.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.sources.base import SourceName

PRODUCT_NAME = "På Tværs – Børn & Unge"


class Language(StrEnum):
    DA = "da"
    EN = "en"

    @classmethod
    def parse(cls, value: str | None) -> Language:
        """The requested language; anything unknown falls back to Danish rather than failing."""
        try:
            return cls((value or "").strip().lower())
        except ValueError:
            return cls.DA


MESSAGES: dict[Language, dict[str, str]] = {
    Language.DA: {
        "skip_to_content": "Spring til indholdet",
        "language_nav": "Sprog",
        "lead": (
            "På Tværs – Børn & Unge samler fagpersonerne omkring et barn eller en ung i "
            "mistrivsel: kommunens børne- og familieafdeling, PPR, børne- og "
            "ungdomspsykiatrien og den praktiserende læge. Her kan de se, hvem der ellers er "
            "involveret, og skrive sammen på tværs af sektorerne."
        ),
        "synthetic_label": "Bemærk:",
        "synthetic_note": "Dette er en demonstration. Alle personer og CPR-numre er syntetiske.",
        "demo_heading": "Demobrugere",
        "demo_intro": (
            "Demoen har en bruger for hver faggruppe, så du kan se platformen, som hver "
            "fagperson ser den, og en bruger til drift og opfølgning, som ser de samlede tal "
            "for data og udrulning."
        ),
        "demo_caption": "Demobrugere ordnet efter rolle",
        "col_role": "Rolle",
        "col_name": "Navn",
        "col_username": "Brugernavn",
        "col_unit": "Enhed",
        "demo_empty": (
            "Der er ingen demobrugere i databasen endnu. Indlæs den syntetiske population først."
        ),
        "footer": "En demonstration med syntetiske data – brug ikke rigtige personoplysninger.",
        "login_as": "Log ind som",
        "login_oidc": "Log ind",
        "logout": "Log ud",
        "logged_in_as": "Logget ind som",
        "mine_heading": "Mine børn",
        "mine_intro": (
            "Børn i målgruppen, som din enhed har en relation til: på patientlisten, i et "
            "forløb i enheden eller med en sag i enheden."
        ),
        "mine_empty": "Der er ingen børn i målgruppen med en relation til din enhed.",
        "mine_caption": "Børn i målgruppen med relation til din enhed",
        "col_child": "Barn",
        "col_born": "Født",
        "col_age": "Alder",
        "col_open": "Åbn",
        "open_overview": "Åbn overblik",
        "open_overview_for": "for",
        "search_heading": "Find et barn med CPR-nummer",
        "search_cpr": "CPR-nummer",
        "search_purpose": "Formål med opslaget",
        "search_button": "Slå op",
        "search_note": "Opslaget og formålet skrives i adgangsloggen.",
        "error_cpr": "CPR-nummeret er ikke gyldigt. Skriv 10 cifre, fx 0101101234.",
        "error_purpose": "Vælg et formål med opslaget.",
        "overview_health": "Overblik for sundhedsvæsenet",
        "overview_municipal": "Overblik for kommunen",
        "purpose": "Formål",
        "back_to_mine": "Tilbage til mine børn",
        "print": "Udskriv",
        "block_child": "Barnet",
        "block_cases": "Sager i kommunen",
        "block_contacts": "Kontaktpersoner",
        "block_school": "Skole og dagtilbud",
        "block_target_group": "Målgruppe",
        "block_appointments": "Aftaler i børne- og ungdomspsykiatrien",
        "block_timeline": "Hvor langt er barnet i psykiatrien?",
        "source": "Kilde",
        "updated": "opdateret",
        "not_shown": "Vises ikke",
        "why": "Begrundelse",
        "would_permit": "Det kræver",
        "legal_basis": "Lovgrundlag",
        "none_found": "Ingen",
        "name": "Navn",
        "born": "Født",
        "age": "Alder",
        "years": "år",
        "address": "Adresse",
        "municipality": "Kommune",
        "custody": "Forældremyndighed",
        "gp": "Praktiserende læge",
        "col_title": "Sag",
        "col_subject": "KLE-emne",
        "col_status": "Status",
        "col_unit_responsible": "Ansvarlig enhed",
        "col_opened": "Oprettet",
        "col_caseworker": "Sagsbehandler",
        "col_phone": "Telefon",
        "col_email": "E-mail",
        "institution": "Institution",
        "institution_type": "Type",
        "grade": "Klassetrin",
        "main_group": "Klasse",
        "next_appointment": "Næste aftale",
        "no_next": "Ingen bookede aftaler",
        "upcoming": "Kommende aftaler",
        "past": "Tidligere aftaler",
        "upcoming_caption": "Kommende aftaler, den næste først",
        "past_caption": "Tidligere aftaler, den seneste først",
        "col_when": "Tidspunkt",
        "col_where": "Sted",
        "col_stage": "Fase",
        "reached": "Nået",
        "not_reached": "Ikke nået (ifølge data)",
        "in_target_group": "Barnet er i målgruppen",
        "status_booked": "Booket",
        "status_held": "Afholdt",
        "status_cancelled": "Aflyst",
        "status_moved": "Flyttet",
        "portal_label": "Demonstration · syntetiske data",
        "authority": "Fælles overblik for kommune og sundhedsvæsen",
        "demo_login_heading": "Demologin",
        "demo_login_note": (
            "Demologin findes kun i demotilstand: vælg en faggruppe, så ser du platformen, "
            "som den fagperson ser den. En rigtig installation logger ind via OpenID Connect."
        ),
        "error_summary_heading": "Der er et problem",
        "error_prefix": "Fejl",
        "search_cpr_hint": "10 cifre, med eller uden bindestreg, fx 010110-1234.",
        "purpose_placeholder": "Vælg et formål",
        "printed_by": "Udskrevet af",
        "print_confidential": (
            "Fortroligt: indeholder personoplysninger om et barn. Opbevar og makulér "
            "udskriften forsvarligt."
        ),
        "at_time": "kl.",
        **{f"source_{source.value}": source.danish_name for source in SourceName},
        "case_status_Opstaaet": "Opstået",
        "case_status_Oplyst": "Oplyst",
        "case_status_Afgjort": "Afgjort",
        "case_status_Afsluttet": "Afsluttet",
        "stage_referral": "Henvisning",
        "stage_assessment": "Udredning",
        "stage_treatment": "Behandling",
        "stage_completion": "Afsluttet",
        "kind_child_family": "børne- og familieafdelingen",
        "kind_ppr": "PPR",
        "kind_bup": "børne- og ungdomspsykiatrien",
        "kind_gp": "egen læge",
        "kind_school": "skolen",
        "kind_daycare": "dagtilbuddet",
        "target_group_text": "{age} år, med {count} involverede fagligheder: {kinds}.",
        "institution_type_1012": "Folkeskole",
        "institution_type_1013": "Friskole eller privat grundskole",
        "institution_type_1015": "Specialskole",
        "institution_type_daycare": "Dagtilbud",
        "grade_class": "{grade}. klasse",
        "grade_zero": "Børnehaveklasse",
        "grade_daycare": "Intet klassetrin (dagtilbud)",
        "no_caseworker": "Ingen sagsbehandler angivet",
        "cases_caption": "Åbne sager om barnet",
        "timeline_note": (
            "Trinene vises, så langt data rækker: et trin uden en afholdt eller booket aftale "
            "vises som ikke nået."
        ),
        # The correspondence client (/post).
        "nav_main": "Hovedmenu",
        "nav_post": "Post",
        "nav_meetings": "Møder",
        "nav_notices": "Notifikationer",
        "post_heading": "Post",
        "post_intro": (
            "Korrespondancemeddelelser (MedCom) til og fra din enhed om børn, I har en "
            "relation til. Nyeste tråd øverst."
        ),
        "post_not_served": (
            "Din enhed modtager sine korrespondancemeddelelser i sit eget system, ikke her."
        ),
        "post_new": "Skriv ny besked",
        "post_back": "Tilbage til post",
        "post_caption": "Tråde i din enheds post, nyeste først",
        "post_empty": "Der er ingen tråde endnu.",
        "post_col_topic": "Emne",
        "post_col_counterpart": "Med",
        "post_col_latest": "Seneste besked",
        "post_col_assigned": "Tildelt",
        "post_col_delivery": "Vores seneste besked",
        "post_unread": "Ulæst",
        "post_not_shown": "Kan ikke vises",
        "post_no_topic": "Uden emne",
        "delivery_queued": "Afventer afsendelse",
        "delivery_sent": "Sendt",
        "delivery_acknowledged": "Kvitteret",
        "delivery_failed": "Fejlet",
        "post_compose_intro": (
            "Beskeden sendes som en korrespondancemeddelelse (MedCom) til modtagerens eget system."
        ),
        "post_child_legend": "Hvilket barn handler beskeden om?",
        "post_child": "Barn fra Mine børn",
        "post_child_placeholder": "Vælg et barn",
        "post_cpr": "Eller barnets CPR-nummer",
        "post_cpr_hint": "Hvis barnet ikke er på listen. 10 cifre, fx 010110-1234.",
        "post_receiver": "Modtager",
        "post_receiver_hint": "Enheder, der kan modtage korrespondancemeddelelser.",
        "post_receiver_placeholder": "Vælg en modtager",
        "post_kind_bup": "Børne- og ungdomspsykiatri",
        "post_kind_child_family": "Børne- og familieafdelinger",
        "post_kind_gp": "Praktiserende læger",
        "post_kind_ppr": "PPR",
        "post_topic": "Emne (valgfrit)",
        "post_topic_hint": "Vises for modtageren som beskedens overskrift.",
        "post_text": "Besked",
        "post_files": "Vedhæft filer (valgfrit)",
        "post_files_hint": "PDF, PNG, JPEG eller GIF, højst {mb} MB i alt.",
        "post_files_again": "Vælg filerne igen.",
        "post_logged_note": "At du skriver om barnet, skrives i adgangsloggen.",
        "post_send": "Send besked",
        "post_error_child": "Vælg et barn, eller skriv barnets CPR-nummer.",
        "post_error_receiver": "Vælg en modtager på listen.",
        "post_error_text": "Skriv en besked.",
        "post_error_file": (
            "Filen »{name}« kan ikke vedhæftes. Vedhæft en PDF-, PNG-, JPEG- eller GIF-fil på "
            "højst {mb} MB."
        ),
        "post_error_total_size": "Filerne fylder for meget tilsammen: højst {mb} MB i alt.",
        "post_error_rule": (
            "Beskeden kan ikke sendes, fordi den bryder en regel i MedCom-standarden. Fjern "
            "eventuelle specialtegn, og prøv igen."
        ),
        "post_error_colleague": "Vælg en kollega fra din egen enhed.",
        "post_sent": "Beskeden er lagt til afsendelse.",
        "post_replied": "Svaret er lagt til afsendelse.",
        "post_forwarded": "Tråden er videresendt i en ny tråd.",
        "post_assigned": "Tråden er tildelt.",
        "post_unassigned": "Tråden er ikke længere tildelt nogen.",
        "post_thread_title": "Tråd",
        "post_thread_missing": "Tråden findes ikke",
        "post_thread_missing_text": "Din enhed har ingen tråd med denne adresse.",
        "post_messages": "Beskeder",
        "post_ours": "fra din enhed",
        "post_delivery": "Status",
        "post_link": "link",
        "post_no_content": "indholdet er ikke sendt med i tråden",
        "post_other_attachments": "Øvrige bilag",
        "post_reply_heading": "Svar",
        "post_reply_text": "Dit svar",
        "post_reply_send": "Send svar",
        "post_forward_heading": "Videresend",
        "post_forward_note": "Hele tråden sendes med bilag videre til en anden enhed i en ny tråd.",
        "post_forward_text": "Din besked til den nye modtager",
        "post_forward_send": "Videresend",
        "post_assign_heading": "Tildel en kollega",
        "post_assign_to": "Tildel til",
        "post_assign_send": "Tildel",
        "post_nobody": "Ingen",
        "post_you": "dig",
        # The quality follow-up (/opfoelgning): aggregates only, for the operations role.
        "nav_follow_up": "Opfølgning",
        "qa_heading": "Opfølgning på data, korrespondance og udrulning",
        "qa_intro": (
            "Tal for hele landet: om kilderne leverer, om data er komplette, hvem der kan "
            "korrespondere, og hvor langt udrulningen er nået. Siderne viser kun optællinger, "
            "aldrig et barn."
        ),
        "qa_generated": "Tallene er beregnet",
        "qa_cache_note": "De beregnes igen, når de er mere end fem minutter gamle.",
        "qa_suppressed_note": (
            "<5 står for et tal under fem, som ikke vises, så intet barn kan genkendes."
        ),
        "qa_views_logged": "Hver visning skrives i adgangsloggen.",
        "qa_plan_illustrative": (
            "Udrulningsplanen er illustrativ: fællesprojektets egen plan er ikke offentlig."
        ),
        "qa_data_danish": "",
        "qa_alerts_heading": "Alarmer",
        "qa_alerts_intro": "Tærskler, der er overskredet:",
        "qa_no_alerts": "Ingen alarmer: ingen tærskler er overskredet.",
        "qa_see_figures": "Se tallene",
        "qa_key_figures": "Nøgletal",
        "qa_of": "af",
        "kf_children": "Børn i CPR",
        "kf_cases": "Sager i sagsindekset",
        "kf_appointments": "Aftaler i børne- og ungdomspsykiatrien",
        "kf_unmarked": "Aftaler uden psykiatrimarkering",
        "kf_municipalities_connected": "Kommuner tilsluttet",
        "kf_municipalities_delivering": "Kommuner der leverer data",
        "kf_clinics_connected": "Lægeklinikker tilsluttet",
        "qa_charts": "Diagrammer",
        "chart_unmarked": "Andel aftaler uden psykiatrimarkering pr. region",
        "chart_cases": "Sager pr. region",
        "chart_rollout": "Tilsluttede kommuner over tid",
        "chart_limit": "Grænse",
        "chart_desc_bars": "Søjlediagram. Tallene står også i tabellen.",
        "chart_desc_line": "Kurve over dagene med øjebliksbilleder. Tallene står i tabellen.",
        "chart_suppressed": "Værdier under fem (<5) tegnes ikke.",
        "chart_table": "Tallene i diagrammet",
        "chart_no_snapshots": (
            "Der er endnu ingen daglige øjebliksbilleder at vise udviklingen fra. De gemmes med "
            "kommandoen paatvaers quality report --snapshot, én gang i døgnet."
        ),
        "col_day": "Dag",
        "col_value": "Værdi",
        "qa_sections": "Afsnit",
        "qa_csv_all": "Hent alle tal som CSV",
        "qa_csv_section": "Hent afsnittet som CSV",
        "qa_csv_note": "Semikolonsepareret med decimalkomma, som danske regneark læser det.",
        "qa_breadcrumb": "Brødkrumme",
        "qa_levels": "Vis alle rækker på ét niveau",
        "qa_total": "i alt",
        "qa_trends": "Udvikling over tid",
        "qa_no_rows": "Afsnittet har ingen rækker.",
        "qa_back": "Tilbage til opfølgningen",
        "qa_forbidden_heading": "Ingen adgang til opfølgningen",
        "qa_forbidden_text": (
            "Opfølgningen er for drift og opfølgning i fællesprojektets sekretariat. Din funktion "
            "giver ikke adgang til den."
        ),
        "qa_logged_note": "Forsøget er skrevet i adgangsloggen.",
        "qa_missing_heading": "Siden findes ikke",
        "qa_missing_text": "Opfølgningen har intet afsnit og ingen række med den adresse.",
        "level_land": "Hele landet",
        "level_region": "Regioner",
        "level_kommune": "Kommuner",
        "level_kildesystem": "Sagssystemer",
        "level_kilde": "Kilder",
        "level_aarsag": "Årsager",
        "level_alarm": "Alarmer",
        "level_enhed": "Enheder",
        "level_enhedstype": "Enhedstyper",
        "level_niveau": "Niveauer",
        "level_klinik": "Lægeklinikker",
        "level_maal": "Mål",
        "level_dag": "Dage",
        "trend_records": "Poster",
        "trend_lag_hours": "Timer siden seneste levering",
        "trend_cases": "Sager",
        "trend_units": "Enheder",
        "trend_units_without_phone": "Enheder uden telefon",
        "trend_appointments": "Aftaler",
        "trend_unmarked": "Aftaler uden psykiatrimarkering",
        "trend_sent": "Sendt",
        "trend_failed": "Fejlet",
        "trend_connected": "Tilsluttet",
        "trend_delivering": "Leverer data",
    },
    Language.EN: {
        "skip_to_content": "Skip to content",
        "language_nav": "Language",
        "lead": (
            "På Tværs – Børn & Unge brings together the professionals around a child or young "
            "person who is struggling: the municipal children and families department, the "
            "educational psychology service (PPR), child and adolescent psychiatry and the "
            "family doctor. Here they can see who else is involved and write to each other "
            "across sectors."
        ),
        "synthetic_label": "Please note:",
        "synthetic_note": "This is a demonstration. All people and CPR numbers are synthetic.",
        "demo_heading": "Demo users",
        "demo_intro": (
            "The demo has one user for each profession, so you can see the platform as each "
            "professional sees it, and one for operations and follow-up, who sees the overall "
            "figures on data and rollout."
        ),
        "demo_caption": "Demo users by role",
        "col_role": "Role",
        "col_name": "Name",
        "col_username": "Username",
        "col_unit": "Unit",
        "demo_empty": (
            "There are no demo users in the database yet. Load the synthetic population first."
        ),
        "footer": "A demonstration with synthetic data – do not enter real personal data.",
        "login_as": "Log in as",
        "login_oidc": "Log in",
        "logout": "Log out",
        "logged_in_as": "Logged in as",
        "mine_heading": "My children",
        "mine_intro": (
            "Children in the target group that your unit has a relationship to: on the patient "
            "list, in a course in the unit, or with a case in the unit."
        ),
        "mine_empty": "No children in the target group have a relationship to your unit.",
        "mine_caption": "Children in the target group related to your unit",
        "col_child": "Child",
        "col_born": "Born",
        "col_age": "Age",
        "col_open": "Open",
        "open_overview": "Open overview",
        "open_overview_for": "for",
        "search_heading": "Find a child by CPR number",
        "search_cpr": "CPR number",
        "search_purpose": "Purpose of the look-up",
        "search_button": "Look up",
        "search_note": "The look-up and its purpose are written to the access log.",
        "error_cpr": "The CPR number is not valid. Enter 10 digits, e.g. 0101101234.",
        "error_purpose": "Choose a purpose for the look-up.",
        "overview_health": "Overview for health care",
        "overview_municipal": "Overview for the municipality",
        "purpose": "Purpose",
        "back_to_mine": "Back to my children",
        "print": "Print",
        "block_child": "The child",
        "block_cases": "Cases in the municipality",
        "block_contacts": "Contact persons",
        "block_school": "School and daycare",
        "block_target_group": "Target group",
        "block_appointments": "Appointments in child and adolescent psychiatry",
        "block_timeline": "How far has the child come in psychiatry?",
        "source": "Source",
        "updated": "updated",
        "not_shown": "Not shown",
        "why": "Reason",
        "would_permit": "It requires",
        "legal_basis": "Legal basis",
        "none_found": "None",
        "name": "Name",
        "born": "Born",
        "age": "Age",
        "years": "years",
        "address": "Address",
        "municipality": "Municipality",
        "custody": "Custody",
        "gp": "General practitioner",
        "col_title": "Case",
        "col_subject": "KLE subject",
        "col_status": "Status",
        "col_unit_responsible": "Responsible unit",
        "col_opened": "Opened",
        "col_caseworker": "Caseworker",
        "col_phone": "Phone",
        "col_email": "E-mail",
        "institution": "Institution",
        "institution_type": "Type",
        "grade": "Grade",
        "main_group": "Class",
        "next_appointment": "Next appointment",
        "no_next": "No booked appointments",
        "upcoming": "Upcoming appointments",
        "past": "Past appointments",
        "upcoming_caption": "Upcoming appointments, the next first",
        "past_caption": "Past appointments, the latest first",
        "col_when": "When",
        "col_where": "Where",
        "col_stage": "Stage",
        "reached": "Reached",
        "not_reached": "Not reached (as far as the data show)",
        "in_target_group": "The child is in the target group",
        "status_booked": "Booked",
        "status_held": "Held",
        "status_cancelled": "Cancelled",
        "status_moved": "Moved",
        "portal_label": "Demonstration · synthetic data",
        "authority": "A shared overview for the municipality and health care",
        "demo_login_heading": "Demo login",
        "demo_login_note": (
            "The demo login exists only in demo mode: choose a profession to see the platform "
            "as that professional sees it. A real installation logs in through OpenID Connect."
        ),
        "error_summary_heading": "There is a problem",
        "error_prefix": "Error",
        "search_cpr_hint": "10 digits, with or without a hyphen, e.g. 010110-1234.",
        "purpose_placeholder": "Choose a purpose",
        "printed_by": "Printed by",
        "print_confidential": (
            "Confidential: contains personal data about a child. Keep the printout safe and "
            "shred it after use."
        ),
        "at_time": "at",
        "source_case_index": "Case and Document Index (KOMBIT)",
        "source_org_registry": "FK Organisation",
        "source_cpr": "Civil Registration System (CPR)",
        "source_institutions": "Institution register (STIL)",
        "source_appointments": "Appointment overview (Aftaleoversigten)",
        "source_consent": "Digital consent (Digitalt Samtykke)",
        "case_status_Opstaaet": "Opened",
        "case_status_Oplyst": "Investigated",
        "case_status_Afgjort": "Decided",
        "case_status_Afsluttet": "Closed",
        "stage_referral": "Referral",
        "stage_assessment": "Assessment",
        "stage_treatment": "Treatment",
        "stage_completion": "Completed",
        "kind_child_family": "children and families department",
        "kind_ppr": "educational psychology service (PPR)",
        "kind_bup": "child and adolescent psychiatry",
        "kind_gp": "general practitioner",
        "kind_school": "school",
        "kind_daycare": "daycare",
        "target_group_text": "Aged {age}, with {count} professions involved: {kinds}.",
        "institution_type_1012": "Public school (folkeskole)",
        "institution_type_1013": "Independent or private school",
        "institution_type_1015": "Special school",
        "institution_type_daycare": "Daycare",
        "grade_class": "Grade {grade}",
        "grade_zero": "Reception class (grade 0)",
        "grade_daycare": "No grade (daycare)",
        "no_caseworker": "No caseworker named",
        "cases_caption": "Open cases about the child",
        "timeline_note": (
            "The stages are shown as far as the data carry them: a stage without a held or "
            "booked appointment is shown as not reached."
        ),
        # The correspondence client (/post).
        "nav_main": "Main menu",
        "nav_post": "Messages",
        "nav_meetings": "Meetings",
        "nav_notices": "Notifications",
        "post_heading": "Messages",
        "post_intro": (
            "Correspondence messages (MedCom) to and from your unit about children you have a "
            "relationship to. The newest thread first."
        ),
        "post_not_served": (
            "Your unit receives its correspondence messages in its own system, not here."
        ),
        "post_new": "Write a new message",
        "post_back": "Back to messages",
        "post_caption": "Threads in your unit's messages, newest first",
        "post_empty": "There are no threads yet.",
        "post_col_topic": "Topic",
        "post_col_counterpart": "With",
        "post_col_latest": "Latest message",
        "post_col_assigned": "Assigned to",
        "post_col_delivery": "Our latest message",
        "post_unread": "Unread",
        "post_not_shown": "Cannot be shown",
        "post_no_topic": "No topic",
        "delivery_queued": "Waiting to be sent",
        "delivery_sent": "Sent",
        "delivery_acknowledged": "Acknowledged",
        "delivery_failed": "Failed",
        "post_compose_intro": (
            "The message is sent as a correspondence message (MedCom) to the receiver's own system."
        ),
        "post_child_legend": "Which child is the message about?",
        "post_child": "Child from My children",
        "post_child_placeholder": "Choose a child",
        "post_cpr": "Or the child's CPR number",
        "post_cpr_hint": "If the child is not on the list. 10 digits, e.g. 010110-1234.",
        "post_receiver": "Receiver",
        "post_receiver_hint": "Units that can receive correspondence messages.",
        "post_receiver_placeholder": "Choose a receiver",
        "post_kind_bup": "Child and adolescent psychiatry",
        "post_kind_child_family": "Children and families departments",
        "post_kind_gp": "General practitioners",
        "post_kind_ppr": "Educational psychology services (PPR)",
        "post_topic": "Topic (optional)",
        "post_topic_hint": "Shown to the receiver as the message's heading.",
        "post_text": "Message",
        "post_files": "Attach files (optional)",
        "post_files_hint": "PDF, PNG, JPEG or GIF, at most {mb} MB in all.",
        "post_files_again": "Choose the files again.",
        "post_logged_note": "That you write about the child is written to the access log.",
        "post_send": "Send message",
        "post_error_child": "Choose a child, or enter the child's CPR number.",
        "post_error_receiver": "Choose a receiver from the list.",
        "post_error_text": "Write a message.",
        "post_error_file": (
            'The file "{name}" cannot be attached. Attach a PDF, PNG, JPEG or GIF file of at '
            "most {mb} MB."
        ),
        "post_error_total_size": "The files are too large together: at most {mb} MB in all.",
        "post_error_rule": (
            "The message cannot be sent because it breaks a rule of the MedCom standard. Remove "
            "any special characters and try again."
        ),
        "post_error_colleague": "Choose a colleague from your own unit.",
        "post_sent": "The message is queued for sending.",
        "post_replied": "The reply is queued for sending.",
        "post_forwarded": "The thread is forwarded in a new thread.",
        "post_assigned": "The thread is assigned.",
        "post_unassigned": "The thread is no longer assigned to anyone.",
        "post_thread_title": "Thread",
        "post_thread_missing": "The thread does not exist",
        "post_thread_missing_text": "Your unit has no thread at this address.",
        "post_messages": "Messages",
        "post_ours": "from your unit",
        "post_delivery": "Status",
        "post_link": "link",
        "post_no_content": "the content was not sent in the thread",
        "post_other_attachments": "Other attachments",
        "post_reply_heading": "Reply",
        "post_reply_text": "Your reply",
        "post_reply_send": "Send reply",
        "post_forward_heading": "Forward",
        "post_forward_note": (
            "The whole thread, with attachments, goes to another unit in a new thread."
        ),
        "post_forward_text": "Your message to the new receiver",
        "post_forward_send": "Forward",
        "post_assign_heading": "Assign to a colleague",
        "post_assign_to": "Assign to",
        "post_assign_send": "Assign",
        "post_nobody": "Nobody",
        "post_you": "you",
        # The quality follow-up (/opfoelgning): aggregates only, for the operations role.
        "nav_follow_up": "Follow-up",
        "qa_heading": "Follow-up on data, correspondence and rollout",
        "qa_intro": (
            "Figures for the whole country: whether the sources deliver, whether the data are "
            "complete, who can exchange correspondence, and how far the rollout has come. The "
            "pages show counts only, never a child."
        ),
        "qa_generated": "Figures computed",
        "qa_cache_note": "They are computed again once they are more than five minutes old.",
        "qa_suppressed_note": (
            "<5 stands for a number below five that is not shown, so that no child can be "
            "singled out."
        ),
        "qa_views_logged": "Every view is written to the access log.",
        "qa_plan_illustrative": (
            "The rollout plan is illustrative: the joint project's own plan is not public."
        ),
        "qa_data_danish": "The figures' headings and the alert texts are in Danish.",
        "qa_alerts_heading": "Alerts",
        "qa_alerts_intro": "Thresholds that are exceeded:",
        "qa_no_alerts": "No alerts: no threshold is exceeded.",
        "qa_see_figures": "See the figures",
        "qa_key_figures": "Key figures",
        "qa_of": "of",
        "kf_children": "Children in CPR",
        "kf_cases": "Cases in the case index",
        "kf_appointments": "Appointments in child and adolescent psychiatry",
        "kf_unmarked": "Appointments without psychiatry marking",
        "kf_municipalities_connected": "Municipalities connected",
        "kf_municipalities_delivering": "Municipalities delivering data",
        "kf_clinics_connected": "GP clinics connected",
        "qa_charts": "Charts",
        "chart_unmarked": "Share of appointments without psychiatry marking, by region",
        "chart_cases": "Cases by region",
        "chart_rollout": "Municipalities connected over time",
        "chart_limit": "Limit",
        "chart_desc_bars": "Bar chart. The figures are also in the table.",
        "chart_desc_line": "Line over the days with snapshots. The figures are in the table.",
        "chart_suppressed": "Values below five (<5) are not drawn.",
        "chart_table": "The figures in the chart",
        "chart_no_snapshots": (
            "There are no daily snapshots yet to show the trend from. They are stored by the "
            "command paatvaers quality report --snapshot, once a day."
        ),
        "col_day": "Day",
        "col_value": "Value",
        "qa_sections": "Sections",
        "qa_csv_all": "Download all figures as CSV",
        "qa_csv_section": "Download this section as CSV",
        "qa_csv_note": "Semicolon-separated with decimal commas, as Danish spreadsheets read it.",
        "qa_breadcrumb": "Breadcrumb",
        "qa_levels": "Show every row of one level",
        "qa_total": "total",
        "qa_trends": "Trend over time",
        "qa_no_rows": "The section has no rows.",
        "qa_back": "Back to the follow-up",
        "qa_forbidden_heading": "No access to the follow-up",
        "qa_forbidden_text": (
            "The follow-up is for operations and follow-up in the joint project's secretariat. "
            "Your function does not give access to it."
        ),
        "qa_logged_note": "The attempt is written to the access log.",
        "qa_missing_heading": "The page does not exist",
        "qa_missing_text": "The follow-up has no section and no row at this address.",
        "level_land": "Whole country",
        "level_region": "Regions",
        "level_kommune": "Municipalities",
        "level_kildesystem": "Case systems",
        "level_kilde": "Sources",
        "level_aarsag": "Reasons",
        "level_alarm": "Alerts",
        "level_enhed": "Units",
        "level_enhedstype": "Kinds of unit",
        "level_niveau": "Levels",
        "level_klinik": "GP clinics",
        "level_maal": "Targets",
        "level_dag": "Days",
        "trend_records": "Records",
        "trend_lag_hours": "Hours since the latest delivery",
        "trend_cases": "Cases",
        "trend_units": "Units",
        "trend_units_without_phone": "Units without a phone number",
        "trend_appointments": "Appointments",
        "trend_unmarked": "Appointments without psychiatry marking",
        "trend_sent": "Sent",
        "trend_failed": "Failed",
        "trend_connected": "Connected",
        "trend_delivering": "Delivering data",
    },
}

# -- involvement notices (notice_routes.py, notice_list.html) ----------------------------------
MESSAGES[Language.DA] |= {
    "notice_heading": "Notifikationer",
    "notice_intro": (
        "Når en ny fagperson eller enhed bliver involveret i et barn, du allerede arbejder med, "
        "får du besked her – men kun om det, du selv har adgang til at se."
    ),
    "notice_unread_heading": "Ulæste notifikationer",
    "notice_logged_note": "Visningen af en notifikation skrives i adgangsloggen.",
    "notice_updated": "Senest opdateret",
    "notice_new_child_family": "Ny sag i børne- og familieafdelingen",
    "notice_new_ppr": "Ny sag i PPR",
    "notice_new_bup": "Nyt forløb i børne- og ungdomspsykiatrien",
    "notice_new_gp": "Ny praktiserende læge",
    "notice_new_school": "Ny skole",
    "notice_new_daycare": "Nyt dagtilbud",
    "notice_since": "siden",
    "notice_mark_read": "Markér som læst",
    "notice_empty": "Du har ingen ulæste notifikationer.",
    "notice_subscription_heading": "Tilmelding",
    "notice_status_on": "Du er tilmeldt notifikationer.",
    "notice_status_off": "Du er ikke tilmeldt notifikationer og får derfor ingen.",
    "notice_subscription_legend": "Hvad vil du have besked om?",
    "notice_opt_in": "Giv mig besked, når nye fagpersoner bliver involveret i mine børn",
    "notice_opt_in_email": "Send mig også en samlet e-mail",
    "notice_email_hint": (
        "E-mailen siger kun, hvor mange nye notifikationer du har. Den nævner ingen børn, "
        "fordi e-mail ikke er en sikker kanal."
    ),
    "notice_save": "Gem",
    "notice_subscribed": "Du er nu tilmeldt notifikationer.",
    "notice_unsubscribed": "Du er nu afmeldt notifikationer.",
    "notice_marked_read": "Notifikationen er markeret som læst.",
}
MESSAGES[Language.EN] |= {
    "notice_heading": "Notifications",
    "notice_intro": (
        "When a new professional or unit becomes involved with a child you already work with, "
        "you are told here – but only about what you yourself may see."
    ),
    "notice_unread_heading": "Unread notifications",
    "notice_logged_note": "Showing a notification is written to the access log.",
    "notice_updated": "Last updated",
    "notice_new_child_family": "New case in the children and families department",
    "notice_new_ppr": "New case in the educational psychology service (PPR)",
    "notice_new_bup": "New course in child and adolescent psychiatry",
    "notice_new_gp": "New general practitioner",
    "notice_new_school": "New school",
    "notice_new_daycare": "New daycare",
    "notice_since": "since",
    "notice_mark_read": "Mark as read",
    "notice_empty": "You have no unread notifications.",
    "notice_subscription_heading": "Subscription",
    "notice_status_on": "You are subscribed to notifications.",
    "notice_status_off": "You are not subscribed to notifications, so you receive none.",
    "notice_subscription_legend": "What do you want to be told about?",
    "notice_opt_in": "Tell me when new professionals become involved with my children",
    "notice_opt_in_email": "Also send me a summary e-mail",
    "notice_email_hint": (
        "The e-mail only says how many new notifications you have. It names no children, "
        "because e-mail is not a secure channel."
    ),
    "notice_save": "Save",
    "notice_subscribed": "You are now subscribed to notifications.",
    "notice_unsubscribed": "You are now unsubscribed from notifications.",
    "notice_marked_read": "The notification is marked as read.",
}

# The Danish titles are the official ones (EmployeeFunction.danish_title); these only gloss them.
ENGLISH_TITLES: dict[EmployeeFunction, str] = {
    EmployeeFunction.SOCIALRAADGIVER: "Social worker, children and families department",
    EmployeeFunction.PPR_PSYKOLOG: "Psychologist, educational psychology service (PPR)",
    EmployeeFunction.BUP_LAEGE: "Physician, child and adolescent psychiatry",
    EmployeeFunction.BUP_PSYKOLOG: "Psychologist, child and adolescent psychiatry",
    EmployeeFunction.BUP_SOCIALRAADGIVER: "Social worker, child and adolescent psychiatry",
    EmployeeFunction.BUP_SEKRETAER: "Medical secretary, child and adolescent psychiatry",
    EmployeeFunction.SAGSBEHANDLER: "Caseworker, children and families department",
    EmployeeFunction.PRAKTISERENDE_LAEGE: "General practitioner",
    EmployeeFunction.KLINIKPERSONALE: "Clinic staff, general practice",
    EmployeeFunction.DRIFT: "Operations and follow-up",
}


def translator(language: Language) -> Callable[[str], str]:
    """A `t(key)` function for templates; an unknown key fails loudly instead of showing blank."""
    return MESSAGES[language].__getitem__


def english_title(function: EmployeeFunction) -> str:
    return ENGLISH_TITLES[function]


# -- cross-disciplinary meetings (issue #7) ------------------------------------------------------
MESSAGES[Language.DA].update(
    {
        "meeting_convene": "Indkald til tværfagligt møde",
        "meeting_list_heading": "Mine møder",
        "meeting_list_intro": (
            "Tværfaglige møder, du har indkaldt til eller er inviteret til. Kun mødets "
            "deltagere kan se dagsorden, deltagere og referat."
        ),
        "meeting_list_caption": "Møder, først det næste",
        "meeting_list_empty": "Du har ingen møder.",
        "meeting_col_time": "Første foreslåede tidspunkt",
        "meeting_col_child": "Barn",
        "meeting_col_place": "Sted",
        "meeting_col_convenor": "Indkaldt af",
        "meeting_col_answer": "Dit svar",
        "meeting_you_convened": "Du har indkaldt",
        "meeting_new_heading": "Indkald til tværfagligt møde",
        "meeting_new_intro": (
            "Platformen foreslår deltagerne ud fra de oplysninger, du har adgang til. Ret "
            "listen, foreslå tidspunkter og send. Sundhedsenheder får indkaldelsen som "
            "MedCom-korrespondance; kommunens medarbejdere ser den her."
        ),
        "meeting_child": "Mødet handler om",
        "meeting_child_hidden": "Barnet i kontekst",
        "meeting_proposed_legend": "Foreslåede deltagere",
        "meeting_proposed_hint": "Fjern fluebenet ved dem, der ikke skal med.",
        "meeting_none_proposed": "Der er ingen deltagere at foreslå ud fra dine oplysninger.",
        "meeting_family_legend": "Familien (valgfrit)",
        "meeting_family_hint": (
            "Forældremyndighedens indehavere og den unge fra 15 år. Du inviterer dem selv, "
            "som du plejer; de står på deltagerlisten."
        ),
        "meeting_extra_unit": "Tilføj en enhed fra adressebogen (valgfrit)",
        "meeting_extra_unit_none": "Ingen",
        "meeting_times_legend": "Foreslåede tidspunkter",
        "meeting_times_hint": "Mindst ét og højst tre tidspunkter.",
        "meeting_time_label": "Tidspunkt",
        "meeting_duration": "Varighed",
        "meeting_minutes_unit": "minutter",
        "meeting_place": "Sted",
        "meeting_agenda": "Dagsorden (valgfrit)",
        "meeting_agenda_hint": "Vises kun for mødets deltagere.",
        "meeting_send": "Send indkaldelse",
        "meeting_logged_note": (
            "Hver deltagers adgang afgøres efter reglerne for tværfaglige møder og logges. "
            "En indkaldelse viser ikke mere, end modtageren selv må se."
        ),
        "meeting_channel_medcom": "MedCom-korrespondance",
        "meeting_channel_platform": "I platformen",
        "meeting_channel_none": "Inviteres af indkalderen",
        "meeting_error_place": "Skriv hvor mødet holdes.",
        "meeting_error_unit": "Vælg en enhed fra adressebogen.",
        "meeting_error_participants": "Vælg mindst én deltager.",
        "meeting_error_duration": "Vælg mødets varighed.",
        "meeting_error_time": "Skriv tidspunktet som dato og klokkeslæt.",
        "meeting_error_no_time": "Foreslå mindst ét tidspunkt.",
        "meeting_error_answer": "Vælg dit svar.",
        "meeting_sent": "Indkaldelsen er sendt.",
        "meeting_answered": "Dit svar er gemt.",
        "meeting_minutes_saved": "Referatet er gemt.",
        "meeting_title": "Tværfagligt møde",
        "meeting_missing": "Mødet findes ikke",
        "meeting_missing_text": "Der er intet møde, du deltager i, på denne adresse.",
        "meeting_back": "Tilbage til mine møder",
        "meeting_times": "Foreslåede tidspunkter",
        "meeting_convenor": "Indkaldt af",
        "meeting_school": "Skole eller dagtilbud",
        "meeting_participants": "Deltagere",
        "meeting_participants_caption": "Deltagere og deres svar",
        "meeting_col_participant": "Deltager",
        "meeting_col_role": "Rolle",
        "meeting_col_contact": "Kontakt",
        "meeting_col_channel": "Indkaldt via",
        "meeting_col_status": "Svar",
        "answer_pending": "Afventer svar",
        "answer_accepted": "Har sagt ja",
        "answer_declined": "Har sagt nej",
        "answer_other_time": "Foreslår et andet tidspunkt",
        "meeting_your_answer": "Dit svar",
        "meeting_answer_accepted": "Ja, jeg deltager",
        "meeting_answer_declined": "Nej, jeg kan ikke deltage",
        "meeting_answer_other_time": "Jeg foreslår et andet tidspunkt",
        "meeting_comment": "Kommentar eller andet tidspunkt",
        "meeting_answer_send": "Send svar",
        "meeting_agenda_heading": "Dagsorden",
        "meeting_no_agenda": "Der er ingen dagsorden.",
        "meeting_minutes_heading": "Referat",
        "meeting_minutes_none": "Der er ikke skrevet referat endnu.",
        "meeting_minutes_label": "Referat af mødet",
        "meeting_minutes_save": "Gem referat",
        "meeting_ics": "Hent kalenderfil (.ics)",
        "meeting_legal": "Lovgrundlag for udvekslingen på mødet",
        "meeting_back_to_overview": "Tilbage til overblikket",
        "meeting_phone": "tlf.",
    }
)
MESSAGES[Language.EN].update(
    {
        "meeting_convene": "Call a cross-disciplinary meeting",
        "meeting_list_heading": "My meetings",
        "meeting_list_intro": (
            "Cross-disciplinary meetings you called or are invited to. Only the meeting's "
            "participants can see the agenda, the participants and the minutes."
        ),
        "meeting_list_caption": "Meetings, the next first",
        "meeting_list_empty": "You have no meetings.",
        "meeting_col_time": "First proposed time",
        "meeting_col_child": "Child",
        "meeting_col_place": "Place",
        "meeting_col_convenor": "Called by",
        "meeting_col_answer": "Your answer",
        "meeting_you_convened": "You called it",
        "meeting_new_heading": "Call a cross-disciplinary meeting",
        "meeting_new_intro": (
            "The platform proposes the participants from the information you have access to. "
            "Adjust the list, propose times and send. Health units receive the invitation as "
            "MedCom correspondence; municipal staff see it here."
        ),
        "meeting_child": "The meeting is about",
        "meeting_child_hidden": "The child in context",
        "meeting_proposed_legend": "Proposed participants",
        "meeting_proposed_hint": "Untick those who should not come.",
        "meeting_none_proposed": "There is no one to propose from your information.",
        "meeting_family_legend": "The family (optional)",
        "meeting_family_hint": (
            "The custody holders, and the young person from 15. You invite them yourself, as "
            "usual; they are on the list of participants."
        ),
        "meeting_extra_unit": "Add a unit from the address book (optional)",
        "meeting_extra_unit_none": "None",
        "meeting_times_legend": "Proposed times",
        "meeting_times_hint": "At least one and at most three times.",
        "meeting_time_label": "Time",
        "meeting_duration": "Duration",
        "meeting_minutes_unit": "minutes",
        "meeting_place": "Place",
        "meeting_agenda": "Agenda (optional)",
        "meeting_agenda_hint": "Shown only to the meeting's participants.",
        "meeting_send": "Send invitation",
        "meeting_logged_note": (
            "Each participant's access is decided by the rules for cross-disciplinary meetings "
            "and logged. An invitation shows no more than its recipient may see."
        ),
        "meeting_channel_medcom": "MedCom correspondence",
        "meeting_channel_platform": "In the platform",
        "meeting_channel_none": "Invited by the convenor",
        "meeting_error_place": "Enter where the meeting is held.",
        "meeting_error_unit": "Choose a unit from the address book.",
        "meeting_error_participants": "Choose at least one participant.",
        "meeting_error_duration": "Choose the meeting's duration.",
        "meeting_error_time": "Enter the time as a date and a time of day.",
        "meeting_error_no_time": "Propose at least one time.",
        "meeting_error_answer": "Choose your answer.",
        "meeting_sent": "The invitation has been sent.",
        "meeting_answered": "Your answer has been saved.",
        "meeting_minutes_saved": "The minutes have been saved.",
        "meeting_title": "Cross-disciplinary meeting",
        "meeting_missing": "The meeting does not exist",
        "meeting_missing_text": "There is no meeting you take part in at this address.",
        "meeting_back": "Back to my meetings",
        "meeting_times": "Proposed times",
        "meeting_convenor": "Called by",
        "meeting_school": "School or daycare",
        "meeting_participants": "Participants",
        "meeting_participants_caption": "Participants and their answers",
        "meeting_col_participant": "Participant",
        "meeting_col_role": "Role",
        "meeting_col_contact": "Contact",
        "meeting_col_channel": "Invited by",
        "meeting_col_status": "Answer",
        "answer_pending": "Awaiting answer",
        "answer_accepted": "Accepted",
        "answer_declined": "Declined",
        "answer_other_time": "Proposes another time",
        "meeting_your_answer": "Your answer",
        "meeting_answer_accepted": "Yes, I will attend",
        "meeting_answer_declined": "No, I cannot attend",
        "meeting_answer_other_time": "I propose another time",
        "meeting_comment": "Comment or another time",
        "meeting_answer_send": "Send answer",
        "meeting_agenda_heading": "Agenda",
        "meeting_no_agenda": "There is no agenda.",
        "meeting_minutes_heading": "Minutes",
        "meeting_minutes_none": "No minutes have been written yet.",
        "meeting_minutes_label": "Minutes of the meeting",
        "meeting_minutes_save": "Save minutes",
        "meeting_ics": "Download calendar file (.ics)",
        "meeting_legal": "Legal basis for the exchange at the meeting",
        "meeting_back_to_overview": "Back to the overview",
        "meeting_phone": "tel.",
    }
)

# -- the family's pages (issue #9: family_routes.py, family_*.html) ------------------------------
# Plain language for a parent under stress: short sentences, every acronym explained.
MESSAGES[Language.DA] |= {
    "family_citizen": "borger",
    "family_login_heading": "For forældre og unge",
    "family_login_intro": (
        "Har du forældremyndigheden over et barn, kan du se, hvem der hjælper barnet. "
        "Er du fyldt 15 år, kan du se din egen side."
    ),
    "family_login_mitid": "Log ind med MitID",
    "family_demo_heading": "Log ind som forælder / ung",
    "family_demo_note": (
        "Demoen har syntetiske forældre og unge. Vælg en af dem for at se familiens sider."
    ),
    "family_heading": "Familiens side",
    "family_intro": (
        "Her kan du se, hvem der arbejder med barnet, hvad de deler, og hvem der har kigget "
        "i oplysningerne."
    ),
    "family_own_page": "Din egen side",
    "family_relation_self": "Du er fyldt 15 år og kan se din egen side",
    "family_relation_custody": "Du har forældremyndigheden",
    "family_years": "år",
    "family_none": "Der er ingen børn at vise her.",
    "family_none_why": (
        "Du kan se et barn her, hvis du har forældremyndigheden over barnet. "
        "Er du fyldt 15 år, kan du se din egen side."
    ),
    "family_nav_label": "Om barnet",
    "family_nav_team": "Hvem hjælper barnet",
    "family_nav_sharing": "Hvad deles med hvem",
    "family_nav_looked": "Hvem har kigget",
    "family_back": "Tilbage til familiens side",
    "family_team_heading": "Hvem hjælper barnet",
    "family_team_intro": (
        "Her er de steder, der arbejder med barnet lige nu. Du kan kontakte dem direkte."
    ),
    "family_team_place": "Sted",
    "family_team_contact": "Kontakt",
    "family_team_person": "Din kontaktperson",
    "family_team_phone": "Telefon",
    "family_team_email": "E-mail",
    "family_team_since": "Med siden",
    "family_team_empty": "Vi kender ikke til nogen, der arbejder med barnet lige nu.",
    "family_meetings_heading": "Møder, familien er inviteret til",
    "family_meeting": "Møde",
    "family_meeting_times": "Foreslåede tider",
    "family_meeting_place": "Sted",
    "family_meeting_convenor": "Indkaldt af",
    "family_meeting_contact": "Kontakt",
    "family_meeting_invited": "Fra familien",
    "family_meetings_note": (
        "Har du spørgsmål til mødet, så kontakt den, der har indkaldt. Svar på mødet til dem."
    ),
    "family_meetings_empty": "Familien er ikke inviteret til nogen kommende møder.",
    "family_sharing_heading": "Hvad deles med hvem",
    "family_sharing_intro": (
        "Her kan du se, hvilke oplysninger om barnet fagfolk kan se, og hvorfor. Nogle deles "
        "efter loven. Andre deles kun, hvis der er givet samtykke. Et samtykke er en "
        "tilladelse, som du kan give og trække tilbage her."
    ),
    "family_sharing_who": "Hvem kan se det",
    "family_sharing_status": "Deles det nu",
    "family_sharing_why": "Hvorfor",
    "family_law": "Loven",
    "family_sharing_decides": "Hvem bestemmer",
    "family_state_by_law": "Ja, det deles efter loven.",
    "family_state_consented": "Ja, fordi der er givet samtykke.",
    "family_state_not_consented": "Nej, fordi der ikke er givet samtykke.",
    "family_state_objected": "Nej, fordi der er sagt nej til, at det deles.",
    "family_state_unknown": (
        "Vi kan ikke se samtykket lige nu. Indtil vi kan, bliver det ikke delt."
    ),
    "family_decider_custody_holders": "Forældre med forældremyndighed.",
    "family_decider_young_person": "Den unge selv, fordi den unge er fyldt 15 år.",
    "family_action_give": "Giv samtykke",
    "family_action_withdraw": "Træk samtykket tilbage",
    "family_not_yours_young": (
        "Barnet er fyldt 15 år og bestemmer selv over det her. Derfor kan du ikke ændre det."
    ),
    "family_not_yours_parents": (
        "Dine forældre med forældremyndighed bestemmer over det her. Derfor kan du ikke ændre det."
    ),
    "family_done_give": "Du har givet samtykke. Det gælder fra nu.",
    "family_done_withdraw": "Samtykket er trukket tilbage. Det gælder fra nu.",
    "family_change_failed": (
        "Det lykkedes ikke at ændre samtykket. Intet er ændret. Prøv igen om lidt."
    ),
    "family_confirm_give": "Vil du give samtykke?",
    "family_confirm_withdraw": "Vil du trække samtykket tilbage?",
    "family_effect_heading": "Det sker, når du bekræfter",
    "family_effect_give": "Når du giver samtykke, kan disse fagfolk se oplysningerne:",
    "family_effect_withdraw": (
        "Når du trækker samtykket tilbage, kan disse fagfolk ikke længere se oplysningerne:"
    ),
    "family_effect_give_after": (
        "Det gælder fra det øjeblik, du bekræfter. Du kan altid trække samtykket tilbage her."
    ),
    "family_effect_withdraw_after": (
        "Det gælder fra det øjeblik, du bekræfter. Det gælder også, hvis den anden forælder "
        "gav samtykket. Du eller den anden forælder kan give det igen senere."
    ),
    "family_confirm_button_give": "Ja, giv samtykke",
    "family_confirm_button_withdraw": "Ja, træk samtykket tilbage",
    "family_cancel": "Nej, gå tilbage",
    "family_looked_heading": "Hvem har kigget",
    "family_looked_intro": (
        "Her kan du se, hvilke fagfolk der har set oplysninger om barnet, og hvornår. "
        "Det nyeste står øverst. Dine egne besøg på disse sider er ikke med."
    ),
    "family_looked_since": "Listen går tilbage til",
    "family_filter_legend": "Vis kun",
    "family_filter_organisation": "Sted",
    "family_filter_all": "Alle",
    "family_filter_data": "Oplysninger",
    "family_filter_from": "Fra dato",
    "family_filter_to": "Til dato",
    "family_filter_apply": "Vis",
    "family_looked_count": "Antal opslag",
    "family_looked_caption": "Opslag i barnets oplysninger, nyeste først",
    "family_col_when": "Hvornår",
    "family_col_who": "Hvem",
    "family_col_organisation": "Sted",
    "family_col_what": "Hvad de så",
    "family_col_why": "Hvorfor",
    "family_unknown_function": "Fagperson",
    "family_looked_list": "Barnets navn på en liste over deres børn",
    "family_pages": "Sider",
    "family_newer": "Nyere",
    "family_older": "Ældre",
    "family_page": "Side",
    "family_of": "af",
    "family_looked_empty": "Ingen fagfolk har kigget i perioden.",
    "family_email_heading": "Få besked på e-mail",
    "family_email_status_on": "Du får en e-mail, når et nyt sted kigger i oplysningerne.",
    "family_email_status_off": "Du får ingen e-mails.",
    "family_email_label": "Din e-mail",
    "family_email_hint": (
        "Vi skriver kun, at et nyt sted har kigget. Vi nævner ikke barnet, fordi e-mail ikke "
        "er sikker. Det gælder alle de børn, du kan se her."
    ),
    "family_email_save": "Send mig besked",
    "family_email_stop": "Stop beskederne",
    "family_email_on": "Du får nu en e-mail, når et nyt sted kigger.",
    "family_email_off": "Du får ikke flere e-mails.",
    "family_email_invalid": "E-mailadressen ser forkert ud. Intet er gemt. Prøv igen.",
}
MESSAGES[Language.EN] |= {
    "family_citizen": "citizen",
    "family_login_heading": "For parents and young people",
    "family_login_intro": (
        "If you have custody of a child, you can see who helps the child. "
        "If you are 15 or older, you can see your own page."
    ),
    "family_login_mitid": "Log in with MitID",
    "family_demo_heading": "Log in as a parent / young person",
    "family_demo_note": (
        "The demo has synthetic parents and young people. Choose one to see the family's pages."
    ),
    "family_heading": "The family's page",
    "family_intro": (
        "Here you can see who works with the child, what they share, and who has looked at "
        "the information."
    ),
    "family_own_page": "Your own page",
    "family_relation_self": "You are 15 or older and can see your own page",
    "family_relation_custody": "You have custody",
    "family_years": "years",
    "family_none": "There are no children to show here.",
    "family_none_why": (
        "You can see a child here if you have custody of the child. "
        "If you are 15 or older, you can see your own page."
    ),
    "family_nav_label": "About the child",
    "family_nav_team": "Who helps the child",
    "family_nav_sharing": "What is shared with whom",
    "family_nav_looked": "Who has looked",
    "family_back": "Back to the family's page",
    "family_team_heading": "Who helps the child",
    "family_team_intro": (
        "These are the places working with the child right now. You can contact them directly."
    ),
    "family_team_place": "Place",
    "family_team_contact": "Contact",
    "family_team_person": "Your contact person",
    "family_team_phone": "Phone",
    "family_team_email": "E-mail",
    "family_team_since": "Involved since",
    "family_team_empty": "We know of no one working with the child right now.",
    "family_meetings_heading": "Meetings the family is invited to",
    "family_meeting": "Meeting",
    "family_meeting_times": "Proposed times",
    "family_meeting_place": "Place",
    "family_meeting_convenor": "Called by",
    "family_meeting_contact": "Contact",
    "family_meeting_invited": "From the family",
    "family_meetings_note": (
        "If you have questions about the meeting, contact the person who called it. Answer them."
    ),
    "family_meetings_empty": "The family is not invited to any upcoming meetings.",
    "family_sharing_heading": "What is shared with whom",
    "family_sharing_intro": (
        "Here you can see which information about the child professionals can see, and why. "
        "Some is shared by law. Other information is shared only with consent. A consent is a "
        "permission that you can give and withdraw here."
    ),
    "family_sharing_who": "Who can see it",
    "family_sharing_status": "Is it shared now",
    "family_sharing_why": "Why",
    "family_law": "The law",
    "family_sharing_decides": "Who decides",
    "family_state_by_law": "Yes, it is shared by law.",
    "family_state_consented": "Yes, because consent has been given.",
    "family_state_not_consented": "No, because no consent has been given.",
    "family_state_objected": "No, because someone has said no to sharing it.",
    "family_state_unknown": (
        "We cannot see the consent right now. Until we can, it is not shared."
    ),
    "family_decider_custody_holders": "Parents with custody.",
    "family_decider_young_person": "The young person, because they are 15 or older.",
    "family_action_give": "Give consent",
    "family_action_withdraw": "Withdraw the consent",
    "family_not_yours_young": (
        "The child is 15 or older and decides this for themself. So you cannot change it."
    ),
    "family_not_yours_parents": ("Your parents with custody decide this. So you cannot change it."),
    "family_done_give": "You have given consent. It applies from now.",
    "family_done_withdraw": "The consent is withdrawn. It applies from now.",
    "family_change_failed": (
        "The consent could not be changed. Nothing has changed. Try again in a moment."
    ),
    "family_confirm_give": "Do you want to give consent?",
    "family_confirm_withdraw": "Do you want to withdraw the consent?",
    "family_effect_heading": "What happens when you confirm",
    "family_effect_give": "When you give consent, these professionals can see the information:",
    "family_effect_withdraw": (
        "When you withdraw the consent, these professionals can no longer see the information:"
    ),
    "family_effect_give_after": (
        "It applies from the moment you confirm. You can always withdraw the consent here."
    ),
    "family_effect_withdraw_after": (
        "It applies from the moment you confirm. It also applies if the other parent gave the "
        "consent. You or the other parent can give it again later."
    ),
    "family_confirm_button_give": "Yes, give consent",
    "family_confirm_button_withdraw": "Yes, withdraw the consent",
    "family_cancel": "No, go back",
    "family_looked_heading": "Who has looked",
    "family_looked_intro": (
        "Here you can see which professionals have seen information about the child, and "
        "when. The newest is at the top. Your own visits to these pages are not included."
    ),
    "family_looked_since": "The list goes back to",
    "family_filter_legend": "Show only",
    "family_filter_organisation": "Place",
    "family_filter_all": "All",
    "family_filter_data": "Information",
    "family_filter_from": "From date",
    "family_filter_to": "To date",
    "family_filter_apply": "Show",
    "family_looked_count": "Number of looks",
    "family_looked_caption": "Looks at the child's information, newest first",
    "family_col_when": "When",
    "family_col_who": "Who",
    "family_col_organisation": "Place",
    "family_col_what": "What they saw",
    "family_col_why": "Why",
    "family_unknown_function": "Professional",
    "family_looked_list": "The child's name in a list of their children",
    "family_pages": "Pages",
    "family_newer": "Newer",
    "family_older": "Older",
    "family_page": "Page",
    "family_of": "of",
    "family_looked_empty": "No professionals have looked in this period.",
    "family_email_heading": "Get an e-mail",
    "family_email_status_on": "You get an e-mail when a new place looks at the information.",
    "family_email_status_off": "You get no e-mails.",
    "family_email_label": "Your e-mail",
    "family_email_hint": (
        "We only write that a new place has looked. We do not name the child, because e-mail "
        "is not secure. It applies to all the children you can see here."
    ),
    "family_email_save": "Send me an e-mail",
    "family_email_stop": "Stop the e-mails",
    "family_email_on": "You now get an e-mail when a new place looks.",
    "family_email_off": "You will get no more e-mails.",
    "family_email_invalid": "The e-mail address looks wrong. Nothing is saved. Try again.",
}
