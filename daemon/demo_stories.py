"""The demo's stories, oldest first: one tuple of `Mail` per conversation.

Owns the story lines and the rule each one shows. Quoted history, signatures and
reply prefixes are added by `demo_mail`; here is only what each person writes.
"""

from __future__ import annotations

from loggbok.daemon.demo_content import (
    ANNA,
    CHARLOTTE,
    ELIN,
    ERIK,
    HENRIK,
    HOTEL,
    JAKE,
    JOHAN,
    JUERGEN,
    KATRIN,
    LINNEA,
    LOGISTIK_IDAG,
    LUKAS,
    MAILER_DAEMON,
    MAJA,
    MATS,
    OLIVER,
    PER,
    PRIYA,
    SAAS_WEEKLY,
    Mail,
)

BCC = "bcc_address"
R3 = "reply_in_tracked_thread"
R4 = "subject_changed"
R5 = "not_in_tracked_thread"
R6 = "no_contact_participant"

_FJ_SUBJECT = "Offert NordTrack – lagerstyrning för Fjällström Byggsystem"

# R2 with a PDF, R3 with "SV:", a reply-all where IT (not a contact) joins, Swedish text.
FJALLSTROM = (
    Mail(
        "fj1",
        "fjallstrom",
        29,
        "09:12",
        MAJA,
        (ANNA,),
        subject=_FJ_SUBJECT,
        bcc_log=True,
        attachments=("offer_pdf",),
        expected=BCC,
        text=(
            "Hej Anna,\n\nTack för ett trevligt möte i Borås i tisdags! Som utlovat kommer här "
            "vår offert på NordTrack för era två lager, med 14 handskannrar och integration mot "
            "Visma.\n\nOfferten gäller i 30 dagar. Hör av dig om något är oklart, så tar vi det "
            "på telefon."
        ),
    ),
    Mail(
        "fj2",
        "fjallstrom",
        28,
        "14:03",
        ANNA,
        (MAJA,),
        parent="fj1",
        expected=R3,
        text=(
            "Hej Maja,\n\nTack för offerten, den ser bra ut. Två frågor innan jag tar den till "
            "ledningsgruppen:\n\n1. Ingår utbildning för truckförarna på plats, eller är det "
            "digitalt?\n2. Kan vi börja med ett lager och lägga till det andra i höst utan att "
            "priset per skanner ändras?"
        ),
    ),
    Mail(
        "fj3",
        "fjallstrom",
        28,
        "16:40",
        MAJA,
        (ANNA,),
        parent="fj2",
        expected=R3,
        text=(
            "Hej Anna,\n\n1. Ja, en halv dag på plats per lager ingår, plus våra videokurser.\n"
            "2. Absolut. Priset per skanner låser vi i 12 månader från avtalsstart.\n\n"
            "Ska jag boka in en genomgång med er IT också?"
        ),
    ),
    Mail(
        "fj4",
        "fjallstrom",
        26,
        "10:15",
        ANNA,
        (MAJA,),
        cc=(JOHAN, MATS),
        parent="fj3",
        expected=R3,
        text=(
            "Hej Maja,\n\nBra svar, tack. Jag lägger till Johan (lagerchef i Borås) och Mats "
            "(vår IT) så att ni kan prata direkt om det tekniska. Mats har några frågor om "
            "inloggning."
        ),
    ),
    Mail(
        "fj5",
        "fjallstrom",
        26,
        "11:02",
        MATS,
        (MAJA,),
        cc=(ANNA, JOHAN),
        parent="fj4",
        expected=R3,
        text=(
            "Hej Maja,\n\nVi kör Azure AD (Entra ID) för allt. Stöder NordTrack SSO via SAML "
            "eller OIDC? Och var lagras datan, inom EU?"
        ),
    ),
    Mail(
        "fj6",
        "fjallstrom",
        25,
        "09:30",
        MAJA,
        (MATS,),
        cc=(ANNA, JOHAN, ELIN),
        parent="fj5",
        expected=R3,
        text=(
            "Hej Mats,\n\nJa, OIDC mot Entra ID fungerar direkt, SAML likaså. All data lagras i "
            "Stockholm och Frankfurt. Jag sätter Elin från vår support på kopia, hon skickar "
            "en checklista för uppsättningen."
        ),
    ),
    Mail(
        "fj7",
        "fjallstrom",
        22,
        "08:47",
        JOHAN,
        (MAJA,),
        cc=(ANNA, MATS),
        parent="fj6",
        expected=R3,
        text=(
            "Hej!\n\nVi har pratat ihop oss här. Vi kör gärna en pilot på lagret i Borås, "
            "helst före semestrarna. Går det att få fyra skannrar till dess?"
        ),
    ),
    Mail(
        "fj8",
        "fjallstrom",
        21,
        "13:20",
        MAJA,
        (JOHAN,),
        cc=(ANNA, MATS),
        parent="fj7",
        expected=R3,
        text=(
            "Hej Johan,\n\nToppen! Fyra skannrar kan vara på plats om två veckor. Jag skickar "
            "ett pilotavtal till Anna i dag; piloten är kostnadsfri i sex veckor."
        ),
    ),
    Mail(
        "fj9",
        "fjallstrom",
        9,
        "10:05",
        ANNA,
        (MAJA,),
        cc=(JOHAN,),
        parent="fj8",
        expected=R3,
        text=(
            "Hej Maja,\n\nPiloten har gått över förväntan, Johan är nöjd. Vi går vidare med "
            "hela offerten för båda lagren. Skicka gärna avtalet till Sofia Åkesson på "
            "ekonomi, hon skriver under."
        ),
    ),
)

_SV_SUBJECT = "Uppstart: integration NordTrack – Solvik Energi"

# A long support thread with quoted history, a colleague answering, an out-of-office
# (R17 auto_reply), a contact standing in during the holidays; and a bounce (R17).
SOLVIK = (
    Mail(
        "se1",
        "solvik",
        24,
        "10:00",
        MAJA,
        (ERIK,),
        cc=(ELIN,),
        subject=_SV_SUBJECT,
        bcc_log=True,
        expected=BCC,
        text=(
            "Hej Erik,\n\nVälkommen som kund! Elin Sjöberg på vår support hjälper er med "
            "integrationen mot ert affärssystem. Hon behöver en testmiljö och ett API-konto "
            "med läsrättighet på artikelregistret."
        ),
    ),
    Mail(
        "se2",
        "solvik",
        23,
        "08:31",
        ERIK,
        (MAJA,),
        cc=(ELIN,),
        parent="se1",
        expected=R3,
        text=(
            "Hej Maja och Elin,\n\nTack! Testmiljön finns på "
            "https://test-erp.solvik-energi.example och kontot heter nordtrack-api. "
            "Lösenordet skickar jag på SMS."
        ),
    ),
    Mail(
        "se3",
        "solvik",
        23,
        "09:55",
        ELIN,
        (ERIK,),
        cc=(MAJA,),
        parent="se2",
        expected=R3,
        text=(
            "Hej Erik,\n\nTack, jag har fått SMS:et. Jag startar en första import av "
            "artikelregistret i eftermiddag och återkommer med resultatet."
        ),
    ),
    Mail(
        "se4",
        "solvik",
        22,
        "15:12",
        ERIK,
        (ELIN,),
        cc=(MAJA,),
        parent="se3",
        expected=R3,
        text=(
            "Hej Elin,\n\nVi ser i våra loggar att API:et svarar 401 på era anrop sedan "
            "klockan 14:20:\n\n  POST /api/v2/articles/export -> 401 Unauthorized\n\n"
            "Har ni ändrat något?"
        ),
    ),
    Mail(
        "se5",
        "solvik",
        21,
        "09:40",
        ELIN,
        (ERIK,),
        cc=(MAJA,),
        parent="se4",
        expected=R3,
        text=(
            "Hej Erik,\n\nDet var vårt fel: token förnyades inte efter 60 minuter. Det är "
            "rättat nu och importen har gått igenom, 18 412 artiklar. Kan du stickprova "
            "några artikelnummer?"
        ),
    ),
    Mail(
        "se6",
        "solvik",
        20,
        "11:20",
        ERIK,
        (ELIN, MAJA),
        parent="se5",
        expected=R3,
        text=(
            'Hej,\n\nNu fungerar det. Artiklarna stämmer, men enheten för kabel blev "st" '
            'i stället för "m". Går det att mappa om?'
        ),
    ),
    Mail(
        "se7",
        "solvik",
        19,
        "16:05",
        MAJA,
        (ERIK,),
        cc=(ELIN,),
        parent="se6",
        expected=R3,
        text=(
            "Hej Erik,\n\nElin lägger in en mappning för enheterna i morgon. Sammanfattning så "
            "här långt:\n\n- API-kopplingen fungerar\n- 18 412 artiklar importerade\n"
            "- enhetsmappning för kabel (m) återstår\n\nVi stämmer av nästa vecka."
        ),
    ),
    Mail(
        "se8",
        "solvik",
        19,
        "16:06",
        ERIK,
        (MAJA,),
        parent="se7",
        signed=False,
        subject="Automatiskt svar: SV: " + _SV_SUBJECT,
        expected="auto_reply",
        headers=(("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")),
        text=(
            "Hej,\n\nJag har semester till och med vecka 33 och läser inte e-post. "
            "Brådskande ärenden: kontakta Linnea Holm, linnea.holm@solvik-energi.example.\n\n"
            "Erik Sandberg"
        ),
    ),
    Mail(
        "se9",
        "solvik",
        15,
        "08:12",
        LINNEA,
        (MAJA,),
        cc=(ELIN,),
        parent="se7",
        expected=R3,
        text=(
            "Hej Maja,\n\nJag täcker för Erik under hans semester. Mappningen för kabel ser "
            'rätt ut nu, men vi behöver också "rulle" som enhet för slang. Kan Elin lägga '
            "till den?"
        ),
    ),
    Mail(
        "se10",
        "solvik",
        15,
        "10:30",
        ELIN,
        (LINNEA,),
        cc=(MAJA,),
        parent="se9",
        expected=R3,
        text=(
            'Hej Linnea,\n\nKlart! "Rulle" finns nu och 214 artiklar har fått den. Säg till '
            "om något ser konstigt ut."
        ),
    ),
    Mail(
        "se11",
        "solvik",
        14,
        "13:45",
        LINNEA,
        (ELIN, MAJA),
        parent="se10",
        expected=R3,
        text="Tack Elin, nu rullar importen varje natt utan fel. Fint jobbat!",
    ),
    Mail(
        "se12",
        "solvik",
        8,
        "09:02",
        ERIK,
        (MAJA, ELIN),
        cc=(LINNEA,),
        parent="se11",
        expected=R3,
        text=(
            "Hej allihop,\n\nTillbaka från semestern och har läst ikapp. Tack för att ni löste "
            "det här så smidigt. Vi vill gärna lägga till lagret i Sundsvall i höst, Maja, "
            "kan du skicka ett prisförslag?"
        ),
    ),
    # Sent to a former employee (not a contact, no logging address): R6, then a bounce.
    Mail(
        "se13",
        "solvik",
        18,
        "10:10",
        MAJA,
        (PER,),
        subject="Fakturaunderlag NordTrack maj",
        expected=R6,
        text=(
            "Hej Per,\n\nHär kommer fakturaunderlaget för maj, som vi pratade om. Säg till om "
            "något saknas."
        ),
    ),
    Mail(
        "se14",
        "solvik",
        18,
        "10:10",
        MAILER_DAEMON,
        (MAJA,),
        parent="se13",
        kind="bounce",
        subject="Undelivered Mail Returned to Sender",
        expected="bounce",
        signed=False,
        headers=(("Auto-Submitted", "auto-replied"),),
        text="",
    ),
)

_BL_SUBJECT = "NordTrack für den Standort Hamburg"

# German: "Re:" from Apple Mail, "AW:" from Outlook, an HTML-only table, a 3 MB
# attachment, a calendar invitation (R17) and the user's reply to it (R5, untracked).
BRANDT = (
    Mail(
        "bl1",
        "brandt",
        27,
        "10:30",
        MAJA,
        (LUKAS,),
        subject=_BL_SUBJECT,
        bcc_log=True,
        expected=BCC,
        text=(
            "Hallo Herr Weber,\n\nvielen Dank für das Gespräch auf der LogiMAT. Wie besprochen "
            "sende ich Ihnen einen Überblick über NordTrack für Ihr Lager in Hamburg: "
            "Echtzeit-Bestände, Scanner-Apps für Ihre Staplerfahrer und eine Schnittstelle zu "
            "SAP EWM.\n\nHätten Sie nächste Woche Zeit für eine kurze Demo?"
        ),
    ),
    Mail(
        "bl2",
        "brandt",
        26,
        "08:15",
        LUKAS,
        (MAJA,),
        parent="bl1",
        expected=R3,
        text=(
            "Hallo Frau Lindqvist,\n\ndanke für die Unterlagen. Eine Demo gerne, Donnerstag "
            "passt gut. Ich nehme Frau Hoffmann aus dem Einkauf dazu."
        ),
    ),
    Mail(
        "bl3",
        "brandt",
        25,
        "14:00",
        MAJA,
        (LUKAS,),
        cc=(KATRIN,),
        parent="bl2",
        expected=R3,
        text=(
            "Hallo Herr Weber, hallo Frau Hoffmann,\n\nDonnerstag 10 Uhr passt. Damit ich das "
            "Angebot richtig dimensioniere: wie viele Paletten bewegen Sie pro Tag, und in "
            "wie vielen Schichten?"
        ),
    ),
    Mail(
        "bl4",
        "brandt",
        24,
        "09:20",
        KATRIN,
        (MAJA,),
        cc=(LUKAS,),
        parent="bl3",
        kind="html",
        expected=R3,
        text=(
            "Sehr geehrte Frau Lindqvist,\n\nanbei unsere Mengen für 2024 (Durchschnitt pro "
            "Arbeitstag):"
        ),
    ),
    Mail(
        "bl5",
        "brandt",
        23,
        "11:00",
        MAJA,
        (KATRIN,),
        cc=(LUKAS,),
        parent="bl4",
        expected=R3,
        text=(
            "Hallo Frau Hoffmann,\n\nvielen Dank für die Zahlen. Bei drei Schichten und "
            "ca. 2.300 Paletten pro Tag empfehle ich 22 Scanner. Das Angebot schicke ich "
            "Ihnen bis Freitag."
        ),
    ),
    Mail(
        "bl6",
        "brandt",
        20,
        "15:30",
        LUKAS,
        (MAJA,),
        cc=(KATRIN,),
        parent="bl5",
        attachments=("layout_zip",),
        expected=R3,
        text=(
            "Hallo Frau Lindqvist,\n\nfür die Planung der WLAN-Abdeckung schicke ich Ihnen "
            "unseren Hallenplan (DWG, gezippt). Halle 3 ist noch im Umbau."
        ),
    ),
    Mail(
        "bl7",
        "brandt",
        17,
        "09:00",
        JUERGEN,
        (MAJA,),
        cc=(LUKAS, KATRIN),
        subject="Einladung: NordTrack Vorstellung Geschäftsführung",
        kind="calendar",
        expected="calendar",
        signed=False,
        text=(
            "Frau Lindqvist,\n\nich lade Sie zu einer Vorstellung von NordTrack bei uns in "
            "Hamburg ein. Herr Weber und Frau Hoffmann sind dabei."
        ),
    ),
    Mail(
        "bl8",
        "brandt",
        16,
        "08:30",
        MAJA,
        (JUERGEN,),
        cc=(LUKAS, KATRIN),
        parent="bl7",
        expected=R5,
        text=(
            "Sehr geehrter Herr Schäfer,\n\nvielen Dank für die Einladung, ich habe zugesagt. "
            "Ich bringe zwei Testgeräte mit, damit Ihr Team selbst scannen kann."
        ),
    ),
    Mail(
        "bl9",
        "brandt",
        7,
        "17:10",
        KATRIN,
        (MAJA,),
        cc=(LUKAS, JUERGEN),
        parent="bl6",
        expected=R3,
        text=(
            "Sehr geehrte Frau Lindqvist,\n\nnach der Vorstellung hat die Geschäftsführung "
            "zugestimmt. Die Bestellung über 22 Scanner und die Lizenz für Hamburg geht Ihnen "
            "diese Woche per Post zu."
        ),
    ),
)

_HP_SUBJECT = "Renewal of your NordTrack licence"

# English: R3 with "Re:", a reply that changes the subject (R4) and the user's answer in
# that new untracked thread (R5), a new email from a contact (R5), and the tracked
# thread going on later (R3).
HARROW = (
    Mail(
        "hp1",
        "harrow",
        20,
        "11:45",
        MAJA,
        (OLIVER,),
        subject=_HP_SUBJECT,
        bcc_log=True,
        expected=BCC,
        text=(
            "Hi Oliver,\n\nYour NordTrack licence for the Northampton site renews on 1 "
            "September. Before I send the paperwork: do you still need 30 scanner seats, or "
            "should we adjust the number?"
        ),
    ),
    Mail(
        "hp2",
        "harrow",
        19,
        "09:10",
        OLIVER,
        (MAJA,),
        cc=(CHARLOTTE,),
        parent="hp1",
        expected=R3,
        text=(
            "Hi Maja,\n\nGood timing. We're at 34 seats now, so let's renew for 35. Looping in "
            "Charlotte from finance, who'll raise the PO."
        ),
    ),
    Mail(
        "hp3",
        "harrow",
        18,
        "15:22",
        CHARLOTTE,
        (MAJA,),
        cc=(OLIVER,),
        parent="hp2",
        subject="New invoice address for Harrow & Pike",
        expected=R4,
        text=(
            "Dear Maja,\n\nBefore you send the renewal invoice, please note our new invoice "
            "address:\n\nHarrow & Pike Ltd\nAccounts Payable\nUnit 4, Brackmills Industrial "
            "Estate\nNorthampton NN4 7PB\n\nPlease quote our PO number on every invoice."
        ),
    ),
    Mail(
        "hp4",
        "harrow",
        18,
        "16:00",
        MAJA,
        (CHARLOTTE,),
        cc=(OLIVER,),
        parent="hp3",
        expected=R5,
        text="Hi Charlotte,\n\nNoted, thank you. I've updated our records.",
    ),
    Mail(
        "hp5",
        "harrow",
        12,
        "10:20",
        OLIVER,
        (MAJA,),
        subject="Two more users for the night shift",
        expected=R5,
        text=(
            "Hi Maja,\n\nQuick one: can you add two users for the night shift, Sam and Dev? "
            "Same rights as the other pickers."
        ),
    ),
    Mail(
        "hp6",
        "harrow",
        12,
        "13:05",
        MAJA,
        (OLIVER,),
        parent="hp5",
        expected=R5,
        text=(
            "Hi Oliver,\n\nDone: invitations have gone out to both. They need to sign in once "
            "on a scanner to activate."
        ),
    ),
    Mail(
        "hp7",
        "harrow",
        11,
        "08:40",
        OLIVER,
        (MAJA,),
        parent="hp6",
        expected=R5,
        text="Both in. Thanks!",
    ),
    Mail(
        "hp8",
        "harrow",
        5,
        "14:15",
        OLIVER,
        (MAJA,),
        cc=(CHARLOTTE,),
        parent="hp2",
        expected=R3,
        text=(
            "Hi Maja,\n\nCharlotte has raised PO 4500-2291 for the 35 seats. Over to you for "
            "the invoice."
        ),
    ),
)

_KA_SUBJECT = "NordTrack for our Leeds warehouse?"

# A contact writes first (R5); the user answers with the logging address (R7, reason
# bcc_address) and the thread is tracked from there on (R3).
KESTREL = (
    Mail(
        "ka1",
        "kestrel",
        13,
        "08:55",
        PRIYA,
        (MAJA,),
        subject=_KA_SUBJECT,
        expected=R5,
        text=(
            "Hi Maja,\n\nA colleague at Harrow & Pike recommended NordTrack. We run a 6,000 m² "
            "warehouse in Leeds and are outgrowing our spreadsheets. Could you tell me roughly "
            "what it costs for 10 scanners?"
        ),
    ),
    Mail(
        "ka2",
        "kestrel",
        13,
        "11:30",
        MAJA,
        (PRIYA,),
        parent="ka1",
        bcc_log=True,
        expected=BCC,
        text=(
            "Hi Priya,\n\nThanks for getting in touch, and nice to hear from Oliver's network. "
            "For 10 scanners you'd be at about £1,450 per month including support. Shall we "
            "book a 30-minute call so I can understand your flows?"
        ),
    ),
    Mail(
        "ka3",
        "kestrel",
        12,
        "16:40",
        PRIYA,
        (MAJA,),
        parent="ka2",
        expected=R3,
        text=("That's within budget. Thursday at 2pm UK time works for me."),
    ),
    Mail(
        "ka4",
        "kestrel",
        10,
        "09:15",
        MAJA,
        (PRIYA,),
        parent="ka3",
        expected=R3,
        text=(
            "Hi Priya,\n\nThanks for the call. As promised: the pilot plan is two weeks with "
            "4 scanners on the goods-in dock, then a review with you and Tom."
        ),
    ),
    Mail(
        "ka5",
        "kestrel",
        3,
        "14:00",
        PRIYA,
        (MAJA,),
        parent="ka4",
        expected=R3,
        text=(
            "Hi Maja,\n\nTom (our CFO) wants to see the total cost over three years before "
            "we start. Could you put that together?"
        ),
    ),
    Mail(
        "ka6",
        "kestrel",
        2,
        "09:30",
        MAJA,
        (PRIYA,),
        parent="ka5",
        expected=R3,
        text=(
            "Hi Priya,\n\nOf course. Three years, 10 scanners: £52,200 including hardware "
            "refresh in year 3. I'll send the breakdown as a spreadsheet tomorrow."
        ),
    ),
)

# Only the user and colleagues (R17 internal_only).
INTERNAL = (
    Mail(
        "in1",
        "internal",
        28,
        "08:05",
        HENRIK,
        (MAJA,),
        subject="Pipeline-genomgång fredag",
        expected="internal_only",
        text=(
            "Hej Maja,\n\nKan du ta med läget för Fjällström och Brandt till fredagens "
            "genomgång? Ledningen frågar om Q3."
        ),
    ),
    Mail(
        "in2",
        "internal",
        28,
        "08:40",
        MAJA,
        (HENRIK,),
        parent="in1",
        expected="internal_only",
        text=("Absolut. Fjällström har offerten, Brandt vill ha demo. Jag tar med siffror."),
    ),
    Mail(
        "in3",
        "internal",
        14,
        "17:30",
        HENRIK,
        (MAJA, ELIN),
        subject="Kickoff i Göteborg – hotell och tider",
        expected="internal_only",
        text=(
            "Hej båda,\n\nKickoffen är den 28:e. Jag har bokat hotell på Skeppsbron, ni får "
            "bekräftelser direkt. Samling 09:00 på kontoret."
        ),
    ),
    Mail(
        "in4",
        "internal",
        6,
        "16:20",
        MAJA,
        (HENRIK,),
        subject="Status Brandt Logistik",
        expected="internal_only",
        text=(
            "Hej Henrik,\n\nLedningen i Hamburg har sagt ja, beställningen kommer "
            "per post. 22 skannrar plus licens, så Q3 ser bra ut."
        ),
    ),
)

# Not from contacts: newsletters (bulk), a vendor's cold email and its follow-up (R6),
# a hotel confirmation (R6).
OTHERS = (
    *(
        Mail(
            f"li{n}",
            "newsletter",
            day,
            "06:30",
            LOGISTIK_IDAG,
            (MAJA,),
            kind="bulk",
            subject=f"Logistik Idag vecka {week}: {headline}",
            expected="bulk",
            signed=False,
            text=headline,
        )
        for n, (day, week, headline) in enumerate(
            (
                (30, 19, "Så klarar lagren bristen på truckförare"),
                (25, 20, "Automationen som betalade sig på 14 månader"),
                (20, 21, "Nya regler för farligt gods från årsskiftet"),
                (15, 22, "Fem trender från Logistikgalan"),
                (10, 23, "Därför satsar e-handeln på mikrolager"),
                (5, 24, "Intervju: lagerchefen som halverade plockfelen"),
            ),
            start=1,
        )
    ),
    *(
        Mail(
            f"sw{n}",
            "newsletter",
            day,
            "13:00",
            SAAS_WEEKLY,
            (MAJA,),
            kind="bulk",
            subject=f"SaaS Sales Weekly #{issue}: {headline}",
            expected="bulk",
            signed=False,
            text=headline,
        )
        for n, (day, issue, headline) in enumerate(
            (
                (27, 212, "Why your renewals start at the first demo"),
                (22, 213, "Discounting without losing margin"),
                (17, 214, "The three emails that close enterprise deals"),
                (12, 215, "Multi-threading: selling to the whole buying group"),
                (4, 216, "Pipeline hygiene before the summer"),
            ),
            start=1,
        )
    ),
    Mail(
        "lr1",
        "cold",
        16,
        "09:03",
        JAKE,
        (MAJA,),
        subject="Quick question, Maja",
        expected=R6,
        text=(
            "Hi Maja,\n\nI noticed Nordvik Sales is hiring SDRs. Teams like yours use LeadRocket "
            "to book 30% more meetings with verified B2B contact data.\n\nWorth a 15-minute "
            "chat next week?"
        ),
    ),
    Mail(
        "lr2",
        "cold",
        11,
        "09:07",
        JAKE,
        (MAJA,),
        parent="lr1",
        expected=R6,
        text=(
            "Hi Maja, just bumping this to the top of your inbox. Would Tuesday or Wednesday "
            "work better?"
        ),
    ),
    Mail(
        "ho1",
        "hotel",
        14,
        "17:42",
        HOTEL,
        (MAJA,),
        signed=False,
        subject="Bokningsbekräftelse 58213 – Hotell Skeppsbron",
        expected=R6,
        text=(
            "Hej Maja Lindqvist,\n\nTack för din bokning!\n\nIncheckning: 27 aug, från 15:00\n"
            "Utcheckning: 28 aug, senast 11:00\nRum: Enkelrum, frukost ingår\n\n"
            "Välkommen!\nHotell Skeppsbron Göteborg"
        ),
    ),
)

STORIES: tuple[Mail, ...] = (*FJALLSTROM, *SOLVIK, *BRANDT, *HARROW, *KESTREL, *INTERNAL, *OTHERS)
