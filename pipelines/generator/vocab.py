"""Vocabularies for the synthetic multi-system customer data generator.

Base vocabularies (given names, family names, German and Dutch cities) are read from the data
that Faker's locale providers carry as class attributes. Reading the lists once is far faster
than calling Faker per row, and lets the generator sample with its own seeded RNG.

Everything else here -- nicknames, legal-form spellings, street-type abbreviations, junk
placeholders -- is the generator's own hand-curated data. It is deliberately independent of
the packages the matcher uses (the matcher must never import this module): if both sides drew
on the same nickname or abbreviation list, the benchmark would only measure that list against
itself.

Everything is deterministic: fixed order, no randomness, the same result on every call.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache

COUNTRIES: tuple[str, ...] = ("GB", "DE", "FR", "NL")
COUNTRY_WEIGHTS: tuple[float, ...] = (0.40, 0.25, 0.20, 0.15)

_LOCALES: dict[str, str] = {"GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "NL": "nl_NL"}

# Canonical English name first, then the ways other source systems write the country: a
# German or Dutch CRM stores it in its own language, people type "UK" or "Holland".
COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "GB": ("United Kingdom", "UK", "Great Britain", "England", "U.K."),
    "DE": ("Germany", "Deutschland", "Bundesrepublik Deutschland", "Allemagne", "Duitsland"),
    "FR": ("France", "Frankreich", "Frankrijk", "République française"),
    "NL": ("Netherlands", "The Netherlands", "Nederland", "Holland", "Niederlande"),
}

CURRENCY: dict[str, str] = {"GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR"}


# --------------------------------------------------------------------------------------------
# Faker-backed loaders
# --------------------------------------------------------------------------------------------


def _locale(country: str) -> str:
    try:
        return _LOCALES[country]
    except KeyError:
        raise ValueError(f"unknown country {country!r}; expected one of {COUNTRIES}") from None


def _provider(kind: str, country: str) -> type:
    """The Faker provider class (`person` or `address`) for `country`; its data, not an instance."""
    module = importlib.import_module(f"faker.providers.{kind}.{_locale(country)}")
    return module.Provider


def _entries(data: Iterable[str] | Mapping[str, float]) -> list[str]:
    """Names from a Faker list in Faker's order, first occurrence kept.

    Some locales store plain tuples, others dicts of name -> weight; iterating a dict yields its
    keys, so both shapes reduce to the same thing.
    """
    return list(dict.fromkeys(name.strip() for name in data))


def _is_single_given_name(name: str) -> bool:
    # "Jean-Pierre" is one name; "Hans Peter" is two, and "Hans-J." is an abbreviation that the
    # generator's own corruption step produces, so it must not already be in the clean value.
    parts = name.split("-")
    return len(name) >= 2 and all(part.isalpha() and len(part) >= 2 for part in parts)


def _given_names(locale: str, gender: str) -> tuple[str, ...]:
    person = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if gender not in ("F", "M"):
        raise ValueError(f"unknown gender {gender!r}; expected 'F' or 'M'")
    female = _entries(person.first_names_female)
    male = _entries(person.first_names_male)
    own, other = (female, male) if gender == "F" else (male, female)
    ambiguous = set(other)
    return tuple(n for n in own if n not in ambiguous and _is_single_given_name(n))


@cache
def given_names(country: str, gender: str) -> tuple[str, ...]:
    """Single-token given names of one gender ("F" or "M") for `country`, in Faker's order.

    Names that the same locale also lists for the other gender are dropped: the generator derives
    salutations from gender, and "Robin" or "Sam" would make those contradict the name.
    """
    return _given_names(_locale(country), gender)


# Every country's customers include people whose names come from elsewhere; these locales give
# that share its names (and the transliteration problems of Turkish, Czech or Swedish letters).
HERITAGE_LOCALES: tuple[str, ...] = (
    "en_IE",
    "it_IT",
    "es_ES",
    "tr_TR",
    "de_AT",
    "en_IN",
    "cs_CZ",
    "sv_SE",
)


@cache
def heritage_given_names(locale: str, gender: str) -> tuple[str, ...]:
    """Given names of one gender from one of HERITAGE_LOCALES."""
    if locale not in HERITAGE_LOCALES:
        raise ValueError(f"unknown heritage locale {locale!r}; expected one of {HERITAGE_LOCALES}")
    return _given_names(locale, gender)


# Entries in Faker's family-name lists that are not family names at all: medieval persons
# ("Aelftrud van Wessex"), epithets ("The Elder") and fragments. A generated "Mr The Elder"
# would be an artefact the matcher should never have to learn.
_NOT_FAMILY_NAMES: frozenset[str] = frozenset(
    {
        "Aelftrud van Wessex",
        "Coreth von und zu Coredo und Starkenberg",
        "Gepa van Bourgondië",
        "Godfrey van Alemannië",
        "Hemma van Allemanië",
        "Heribert van Laon",
        "Luitgardis van Neustrië",
        "Oude Heer",
        "The Elder",
        "Unruoch Hunerik",
        "Waltrade Walderade",
        "auch Schlauchin",
        "Dussen van",
    }
)
_ROMAN_NUMERALS: frozenset[str] = frozenset({"I", "II", "III", "IV", "V"})


def _is_family_name(name: str) -> bool:
    if len(name) < 2 or name in _NOT_FAMILY_NAMES:
        return False
    # Inverted index forms ("Bourgondië, van") and abbreviations are source-system artefacts.
    if any(ch in name for ch in ",.") or any(ch.isdigit() for ch in name):
        return False
    # "Koch II": generation suffixes are added (and corrupted) by the generator itself.
    return name.split()[-1] not in _ROMAN_NUMERALS


def _family_names(locale: str) -> tuple[str, ...]:
    person = importlib.import_module(f"faker.providers.person.{locale}").Provider
    return tuple(n for n in _entries(person.last_names) if _is_family_name(n))


@cache
def family_names(country: str) -> tuple[str, ...]:
    """Family names for `country` in Faker's order; may contain spaces ("van der Berg")."""
    return _family_names(_locale(country))


@cache
def heritage_family_names(locale: str) -> tuple[str, ...]:
    """Family names from one of HERITAGE_LOCALES."""
    if locale not in HERITAGE_LOCALES:
        raise ValueError(f"unknown heritage locale {locale!r}; expected one of {HERITAGE_LOCALES}")
    return _family_names(locale)


# en_GB and fr_FR ship no city list (only generated "Lake Xville"-style names), so these are
# curated: real towns and cities across each country, accents kept.
_GB_CITIES: tuple[str, ...] = (
    "London", "Birmingham", "Manchester", "Leeds", "Liverpool", "Sheffield", "Bristol",
    "Newcastle upon Tyne", "Nottingham", "Leicester", "Coventry", "Bradford", "Cardiff",
    "Edinburgh", "Glasgow", "Aberdeen", "Dundee", "Belfast", "Swansea", "Southampton",
    "Portsmouth", "Plymouth", "Brighton", "Hull", "Stoke-on-Trent", "Wolverhampton", "Derby",
    "Reading", "Milton Keynes", "Northampton", "Luton", "Norwich", "Oxford", "Cambridge", "York",
    "Bath", "Exeter", "Gloucester", "Cheltenham", "Worcester", "Hereford", "Lincoln",
    "Peterborough", "Ipswich", "Colchester", "Chelmsford", "Southend-on-Sea", "Basildon",
    "Maidstone", "Canterbury", "Dover", "Folkestone", "Ashford", "Tunbridge Wells", "Guildford",
    "Woking", "Crawley", "Horsham", "Chichester", "Worthing", "Eastbourne", "Hastings",
    "Winchester", "Basingstoke", "Salisbury", "Swindon", "Bournemouth", "Poole", "Weymouth",
    "Taunton", "Yeovil", "Truro", "Torquay", "Barnstaple", "Newport", "Wrexham", "Bangor",
    "Aberystwyth", "Carmarthen", "Llanelli", "Stirling", "Perth", "Inverness", "Paisley",
    "Kilmarnock", "Ayr", "Dumfries", "Falkirk", "Livingston", "Lisburn", "Newry", "Armagh",
    "Carlisle", "Lancaster", "Preston", "Blackpool", "Blackburn", "Burnley", "Bolton", "Wigan",
    "Warrington", "Stockport", "Oldham", "Rochdale", "Salford", "Huddersfield", "Halifax",
    "Wakefield", "Doncaster", "Rotherham", "Barnsley", "Harrogate", "Scarborough",
    "Middlesbrough", "Sunderland", "Durham", "Darlington", "Gateshead", "Hartlepool", "Chester",
    "Crewe", "Macclesfield", "Shrewsbury", "Telford", "Stafford", "Lichfield", "Walsall",
    "Dudley", "Solihull", "Nuneaton", "Rugby", "Warwick", "Leamington Spa",
    "Stratford-upon-Avon", "Banbury", "Bedford", "Watford", "St Albans", "Stevenage",
    "Hemel Hempstead", "Harlow", "Slough", "Windsor", "Maidenhead", "High Wycombe", "Aylesbury",
    "Grimsby", "Scunthorpe", "Grantham", "Mansfield", "Chesterfield", "Loughborough",
    "Kettering", "Corby", "King's Lynn", "Great Yarmouth", "Lowestoft", "Bury St Edmunds",
    "Kendal", "Penrith",
)  # fmt: skip

_FR_CITIES: tuple[str, ...] = (
    "Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Montpellier", "Strasbourg",
    "Bordeaux", "Lille", "Rennes", "Reims", "Toulon", "Saint-Étienne", "Le Havre", "Grenoble",
    "Dijon", "Angers", "Nîmes", "Villeurbanne", "Clermont-Ferrand", "Le Mans", "Aix-en-Provence",
    "Brest", "Tours", "Amiens", "Limoges", "Annecy", "Perpignan", "Boulogne-Billancourt", "Metz",
    "Besançon", "Orléans", "Saint-Denis", "Argenteuil", "Rouen", "Mulhouse", "Montreuil",
    "Caen", "Nancy", "Tourcoing", "Roubaix", "Nanterre", "Vitry-sur-Seine", "Avignon",
    "Créteil", "Poitiers", "Aubervilliers", "Dunkerque", "Aulnay-sous-Bois", "Colombes",
    "Versailles", "Courbevoie", "Béziers", "Rueil-Malmaison", "La Rochelle", "Pau",
    "Champigny-sur-Marne", "Cannes", "Antibes", "Calais", "Saint-Maur-des-Fossés", "Drancy",
    "Ajaccio", "Mérignac", "Saint-Nazaire", "Colmar", "Issy-les-Moulineaux", "Noisy-le-Grand",
    "Évry", "Vénissieux", "Cergy", "Levallois-Perret", "Valence", "Bourges", "Pessac", "Cholet",
    "Ivry-sur-Seine", "Quimper", "La Seyne-sur-Mer", "Antony", "Troyes", "Clichy", "Montauban",
    "Neuilly-sur-Seine", "Niort", "Sarcelles", "Chambéry", "Lorient", "Beauvais", "Hyères",
    "Pantin", "Villejuif", "Épinay-sur-Seine", "Maisons-Alfort", "Cherbourg-en-Cotentin",
    "Vannes", "Fréjus", "Arles", "Clamart", "Évreux", "Saint-Malo", "Bayonne", "Narbonne",
    "Chartres", "Laval", "Saint-Brieuc", "Belfort", "Blois", "Châteauroux", "Angoulême",
    "Bourg-en-Bresse", "Carcassonne", "Albi", "Tarbes", "Agen", "Périgueux",
    "Brive-la-Gaillarde", "Auxerre", "Nevers", "Mâcon", "Chalon-sur-Saône",
    "Charleville-Mézières", "Épinal", "Saint-Quentin", "Compiègne", "Alès", "Sète", "Martigues",
    "Aubagne", "Gap", "Vichy", "Montluçon", "Rodez", "Cahors", "Dax", "Biarritz", "Thionville",
    "Haguenau", "Lens", "Arras", "Douai", "Valenciennes", "Cambrai", "Boulogne-sur-Mer",
    "Saint-Omer", "Laon", "Soissons", "Châlons-en-Champagne", "Sens", "Vienne", "Roanne",
    "Le Puy-en-Velay", "Aurillac", "Mende", "Millau", "Foix", "Auch", "Mont-de-Marsan",
    "Lourdes", "Bastia", "Menton", "Grasse", "Draguignan", "Digne-les-Bains", "Orange",
    "Carpentras", "Montélimar", "Lannion", "Morlaix", "Saint-Lô", "Alençon", "Lisieux", "Dieppe",
    "Fécamp", "Granville",
)  # fmt: skip

_CURATED_CITIES: dict[str, tuple[str, ...]] = {"GB": _GB_CITIES, "FR": _FR_CITIES}


@cache
def cities(country: str) -> tuple[str, ...]:
    """Real town and city names for `country`: Faker's lists for DE and NL, curated for GB, FR."""
    _locale(country)  # validates the country
    if country in _CURATED_CITIES:
        return _CURATED_CITIES[country]
    return tuple(_entries(_provider("address", country).cities))


# --------------------------------------------------------------------------------------------
# Streets
# --------------------------------------------------------------------------------------------

# Base names without the street type. GB and FR put the type after / before the base with a
# space; DE and NL compound it ("Linden" + "straße"), so DE/NL bases are the first element of
# a compound (hence "Kirch", "Dorps", "Friedens"). No base is itself a street type, and none
# holds a digit, so a generated street line never looks like it has two types or a house number.
_STREET_NAMES: dict[str, tuple[str, ...]] = {
    "GB": (
        "Church", "Mill", "Victoria", "High", "Station", "Park", "Green", "Manor", "Kings",
        "Queens", "New", "School", "North", "South", "East", "West", "Main", "London", "Windsor",
        "York", "Albert", "George", "Grange", "Orchard", "Meadow", "Beech", "Oak", "Elm", "Ash",
        "Willow", "Cedar", "Chestnut", "Maple", "Birch", "Holly", "Rowan", "Hazel", "Laurel",
        "Highfield", "Springfield", "Westfield", "Broad", "Chapel", "Bridge", "Castle", "Market",
        "Water", "Hill", "Stanley", "Alexandra", "Richmond", "Cambridge", "Oxford", "Lansdowne",
        "Clarence", "Belmont", "Mount Pleasant", "Queen", "Princes", "Cromwell", "Nelson",
        "Wellington", "Marlborough", "Salisbury", "Devonshire", "Grosvenor", "Portland",
        "Regent", "Trafalgar", "Waterloo", "Balmoral", "Sandringham", "Kensington", "Hampton",
        "Abbey", "Priory", "Vicarage", "Rectory", "Glebe", "Farm", "Woodland", "Forest", "Heath",
        "Moor", "Valley", "Brook", "River", "Spring", "Well", "Field", "Riverside", "Brookside",
        "Parkside", "Hillside", "Woodside", "Oakwood", "Ashwood", "Elmwood", "Beechwood",
        "Hawthorn", "Lime", "Poplar", "Sycamore", "Larch", "Pine", "Cherry", "Rose", "Primrose",
        "Lavender", "Ivy", "Blenheim", "Chatsworth", "Clifton", "Hamilton", "Milton",
        "Shakespeare", "Tennyson", "Byron", "Wordsworth", "Chaucer", "Dickens", "Kipling",
        "Darwin", "Newton", "Churchill", "Gladstone", "Raleigh", "Drake", "Nightingale",
        "Brunel", "Stephenson", "Faraday", "St John's", "St Mary's", "St Andrew's", "St Peter's",
        "St George's", "Railway", "Canal", "Quarry", "Forge", "Malthouse", "Granary", "College",
        "Commercial", "Union", "Crown", "Silver",
    ),
    "DE": (
        "Goethe", "Schiller", "Linden", "Bahnhof", "Haupt", "Kirch", "Schul", "Garten", "Berg",
        "Wald", "Feld", "Wiesen", "Birken", "Eichen", "Buchen", "Tannen", "Ahorn", "Kastanien",
        "Rosen", "Tulpen", "Nelken", "Mühlen", "Brunnen", "Markt", "Dorf", "Sonnen", "Mozart",
        "Beethoven", "Bach", "Händel", "Lessing", "Heine", "Uhland", "Kant", "Bismarck",
        "Kaiser", "Königs", "Fürsten", "Luisen", "Wilhelm", "Friedrich", "Karl", "Ludwig",
        "Marien", "Hafen", "Industrie", "Gewerbe", "Post", "Kloster", "Burg", "Schloss", "Park",
        "See", "Rhein", "Main", "Donau", "Weser", "Neckar", "Mosel", "Isar", "Friedhof",
        "Raiffeisen", "Einstein", "Humboldt", "Kepler", "Gutenberg", "Luther", "Dürer",
        "Schubert", "Wagner", "Brahms", "Herder", "Fontane", "Hölderlin", "Eichendorff",
        "Körner", "Jahn", "Blumen", "Amsel", "Drossel", "Finken", "Lerchen", "Meisen",
        "Schwalben", "Stern", "Rathaus", "Turm", "Tor", "Brücken", "Damm", "Graben", "Anger",
        "Heide", "Moor", "Höhen", "Tal", "Quellen", "Kreuz", "Kapellen", "Pfarr", "Friedens",
        "Hof", "Hoch", "Neu", "Weinberg", "Weiden", "Erlen", "Eschen", "Pappel", "Ulmen",
        "Kiefern", "Fichten", "Holunder", "Flieder", "Veilchen", "Akazien", "Hasel", "Schützen",
        "Jäger", "Gärtner", "Fischer", "Bäcker", "Schmiede", "Ziegelei", "Sand", "Stein",
        "Acker", "Lärchen", "Weißdorn", "Schlehen", "Wacholder", "Ginster", "Adler", "Falken",
        "Kranich",
    ),
    "FR": (
        "Victor Hugo", "Jean Jaurès", "de la Paix", "des Lilas", "de la République",
        "du Général de Gaulle", "Gambetta", "Pasteur", "Voltaire", "Jean Moulin", "de la Gare",
        "de l'Église", "du Moulin", "des Écoles", "de la Mairie", "du Château", "Émile Zola",
        "Jules Ferry", "Anatole France", "Pierre Curie", "Marie Curie", "Molière", "Carnot",
        "Foch", "Clemenceau", "Léon Blum", "Aristide Briand", "de la Liberté", "de Verdun",
        "des Roses", "des Tilleuls", "des Acacias", "des Peupliers", "des Chênes", "des Érables",
        "des Marronniers", "des Platanes", "des Pins", "des Sapins", "des Bouleaux", "des Saules",
        "des Cerisiers", "des Pommiers", "des Vignes", "des Prés", "des Champs", "des Jardins",
        "du Stade", "du Port", "du Pont", "de la Fontaine", "du Lavoir", "de la Forêt", "du Bois",
        "du Parc", "de la Poste", "du Marché", "du Commerce", "de l'Industrie", "des Artisans",
        "de la Croix", "Saint-Martin", "Saint-Michel", "Saint-Pierre", "Saint-Jacques",
        "Sainte-Anne", "Notre-Dame", "de Paris", "de Lyon", "de Bordeaux", "de Strasbourg",
        "de Bretagne", "de Normandie", "de Provence", "des Alpes", "de la Mer", "de la Plage",
        "du Lac", "de la Rivière", "du Canal", "de la Source", "du Soleil", "des Vergers",
        "des Mimosas", "des Violettes", "des Glycines", "des Hirondelles", "des Alouettes",
        "des Mésanges", "Albert Schweitzer", "Paul Bert", "Paul Doumer", "Jean Macé",
        "Charles de Gaulle", "du Maréchal Leclerc", "du Maréchal Foch", "Georges Clemenceau",
        "Henri Barbusse", "Danton", "Mirabeau", "Condorcet", "Diderot", "Jean-Jacques Rousseau",
        "Montaigne", "Racine", "Corneille", "Lamartine", "Alphonse Daudet", "Frédéric Mistral",
        "Paul Verlaine", "Arthur Rimbaud", "Albert Camus", "Antoine de Saint-Exupéry",
        "Jean Monnet", "Robert Schuman", "Pierre Brossolette", "Gabriel Péri", "Hoche", "Kléber",
        "Thiers", "Richelieu", "Colbert", "Vauban", "Lafayette", "Jeanne d'Arc", "des Fleurs",
        "des Tulipes", "des Capucines", "des Coquelicots", "des Bleuets", "des Primevères",
        "des Camélias", "des Hortensias", "des Magnolias", "des Lauriers", "des Oliviers",
        "des Amandiers", "des Noyers", "des Frênes", "des Hêtres", "des Genêts", "des Bruyères",
        "des Fougères", "du Verger", "de la Vallée", "de la Colline", "du Coteau", "de la Tour",
        "des Remparts", "de la Cathédrale", "de l'Abbaye", "du Presbytère", "du Cimetière",
        "de l'Hôpital", "de la Libération", "de la Résistance", "des Martyrs", "de l'Europe",
        "de la Concorde", "de la Victoire", "du Progrès",
    ),
    "NL": (
        "Kerk", "Dorps", "Molen", "School", "Stations", "Markt", "Haven", "Brug", "Hoofd", "Nieuw",
        "Lange", "Korte", "Hoog", "Beuken", "Eiken", "Linden", "Berken", "Essen", "Populieren",
        "Wilgen", "Kastanje", "Iepen", "Platanen", "Dennen", "Acacia", "Rozen", "Tulpen",
        "Lelie", "Narcissen", "Anjer", "Seringen", "Margrieten", "Hyacinten", "Violieren",
        "Zonnebloem", "Merel", "Lijster", "Spreeuwen", "Zwaluw", "Meeuwen", "Reiger", "Kievit",
        "Vinken", "Leeuwerik", "Konings", "Koninginne", "Prinsen", "Keizers", "Heren", "Juliana",
        "Beatrix", "Wilhelmina", "Emma", "Oranje", "Nassau", "Willem", "Rembrandt", "Vondel",
        "Van Gogh", "Bilderdijk", "Huygens", "Spinoza", "Erasmus", "Thorbecke", "Multatuli",
        "Mozart", "Beethoven", "Kanaal", "Dijk", "Polder", "Veld", "Akker", "Weide", "Heide",
        "Bos", "Park", "Tuin", "Zee", "Strand", "Duin", "Noord", "Zuid", "Oost", "West", "Groen",
        "Klooster", "Kapel", "Kasteel", "Slot", "Burg", "Poort", "Sluis", "Brink", "Vijver",
        "Meer", "Rijn", "Maas", "Waal", "IJssel", "Amstel", "Schelde", "Leidse", "Utrechtse",
        "Haagse", "Spoor", "Industrie", "Fabrieks", "Nijverheids", "Handels", "Ambachts",
        "Sport", "Kerkhof", "Boomgaard", "Vis", "Wevers", "Smids", "Bakkers", "Brouwers",
        "Raadhuis", "Stadhuis", "Post", "Tol", "Hobbema", "Ruysdael", "Jan Steen", "Frans Hals",
        "Vermeer", "Mesdag", "Breitner", "Mondriaan", "De Ruyter", "Tromp", "Piet Hein", "Tasman",
        "Irene", "Marijke", "Prins Bernhard", "Prins Hendrik",
    ),
}  # fmt: skip


@cache
def street_names(country: str) -> tuple[str, ...]:
    """Street base names for `country`, without the street type (see STREET_TYPES)."""
    _locale(country)  # validates the country
    return _STREET_NAMES[country]


# (full type, abbreviated type, position), most common type first. Only abbreviations that
# are really written in that country are listed, because the matcher's address normalisation
# is judged on them; German has few (a "Lindenweg" is hardly ever shortened), so DE has fewer
# types than the others rather than invented ones. DE/NL abbreviations follow libpostal's
# concatenated-suffix dictionaries; FR follows La Poste usage; GB follows Royal Mail style
# (no full stop).
STREET_TYPES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "GB": (
        ("Road", "Rd", "suffix"),
        ("Street", "St", "suffix"),
        ("Avenue", "Ave", "suffix"),
        ("Lane", "Ln", "suffix"),
        ("Close", "Cl", "suffix"),
        ("Drive", "Dr", "suffix"),
        ("Gardens", "Gdns", "suffix"),
        ("Crescent", "Cres", "suffix"),
        ("Place", "Pl", "suffix"),
        ("Terrace", "Terr", "suffix"),
    ),
    "DE": (
        ("straße", "str.", "compound"),
        ("weg", "w.", "compound"),
        ("platz", "pl.", "compound"),
        ("allee", "al.", "compound"),
    ),
    "FR": (
        ("Rue", "R.", "prefix"),
        ("Avenue", "Av.", "prefix"),
        ("Boulevard", "Bd", "prefix"),
        ("Place", "Pl.", "prefix"),
        ("Chemin", "Ch.", "prefix"),
        ("Impasse", "Imp.", "prefix"),
        ("Allée", "All.", "prefix"),
        ("Route", "Rte", "prefix"),
    ),
    "NL": (
        ("straat", "str.", "compound"),
        ("weg", "wg.", "compound"),
        ("laan", "ln.", "compound"),
        ("plein", "pln.", "compound"),
        ("gracht", "gr.", "compound"),
        ("singel", "sngl.", "compound"),
    ),
}


# --------------------------------------------------------------------------------------------
# Nicknames
# --------------------------------------------------------------------------------------------

# Given name -> nicknames, diminutives and short forms people actually go by, most usual first.
# Every key is a given name that given_names() returns for at least one country. One flat dict
# serves all countries, so a name shared by two languages ("Johannes") carries the short forms
# of both.
NICKNAMES: dict[str, tuple[str, ...]] = {
    # English (GB)
    "William": ("Will", "Bill", "Billy", "Willy"),
    "Robert": ("Rob", "Bob", "Bobby", "Robbie", "Bert"),
    "Richard": ("Rich", "Rick", "Richie", "Ricky", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick", "Mikey", "Micky", "Micha", "Michi"),
    "David": ("Dave", "Davey", "Davy"),
    "Christopher": ("Chris", "Kit"),
    "Thomas": ("Tom", "Tommy", "Thom"),
    "Stephen": ("Steve", "Stevie"),
    "Steven": ("Steve", "Stevie"),
    "Andrew": ("Andy", "Drew"),
    "Peter": ("Pete",),
    "Matthew": ("Matt", "Matty"),
    "Mathew": ("Matt",),
    "Daniel": ("Dan", "Danny", "Dani"),
    "Samuel": ("Sam", "Sammy"),
    "Joshua": ("Josh",),
    "Anthony": ("Tony", "Ant"),
    "Antony": ("Tony", "Ant"),
    "Alexander": ("Alex", "Alec", "Sandy", "Sascha", "Sander", "Lex"),
    "Benjamin": ("Ben", "Benny", "Benji", "Benni"),
    "Philip": ("Phil", "Pip"),
    "Phillip": ("Phil",),
    "Joseph": ("Joe", "Joey", "Jo"),
    "Jonathan": ("Jon", "Jonny"),
    "Nicholas": ("Nick", "Nicky"),
    "Timothy": ("Tim", "Timmy"),
    "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",),
    "Geoffrey": ("Geoff",),
    "Jeffrey": ("Jeff",),
    "Terence": ("Terry", "Tel"),
    "Charles": ("Charlie", "Chas", "Chaz"),
    "Edward": ("Ed", "Eddie", "Ted", "Ned", "Teddy"),
    "Frederick": ("Fred", "Freddie", "Freddy"),
    "Gerald": ("Gerry", "Jerry"),
    "Gerard": ("Gerry", "Ged"),
    "Leonard": ("Len", "Lenny", "Leo"),
    "Lawrence": ("Larry", "Laurie"),
    "Gregory": ("Greg",),
    "Clifford": ("Cliff",),
    "Stanley": ("Stan",),
    "Albert": ("Bert", "Bertie", "Al"),
    "Donald": ("Don", "Donny"),
    "Ronald": ("Ron", "Ronnie"),
    "Douglas": ("Doug", "Dougie"),
    "Patrick": ("Pat", "Paddy"),
    "Francis": ("Frank", "Fran"),
    "Henry": ("Harry", "Hal"),
    "Nathan": ("Nate", "Nat"),
    "Jacob": ("Jake", "Jaap", "Koos"),
    "Dominic": ("Dom",),
    "Cameron": ("Cam",),
    "Bradley": ("Brad",),
    "Russell": ("Russ",),
    "Vincent": ("Vince", "Vinnie"),
    "Maurice": ("Mo",),
    "Malcolm": ("Mal", "Malc"),
    "Oliver": ("Ollie", "Olly", "Olli"),
    "Christian": ("Chris",),
    "Trevor": ("Trev",),
    "Barry": ("Baz",),
    "Gary": ("Gaz",),
    "Gareth": ("Gaz",),
    "Derek": ("Del",),
    "Arthur": ("Art", "Artie"),
    "Norman": ("Norm",),
    "Stuart": ("Stu",),
    "Stewart": ("Stu",),
    "Alan": ("Al",),
    "Allan": ("Al",),
    "Callum": ("Cal",),
    "Mohammed": ("Mo",),
    "Mohammad": ("Mo",),
    "Mohamed": ("Mo",),
    "Jeremy": ("Jez", "Jerry"),
    "Julian": ("Jules",),
    "Bernard": ("Bernie",),
    "Leslie": ("Les",),
    "Victor": ("Vic",),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie", "Eliza", "Libby", "Bess"),
    "Margaret": ("Maggie", "Peggy", "Meg", "Madge", "Marge"),
    "Catherine": ("Cathy", "Kate", "Katie", "Cath"),
    "Katherine": ("Kate", "Kathy", "Katie", "Kath"),
    "Kathleen": ("Kath", "Kathy", "Kay"),
    "Kathryn": ("Kathy", "Kate", "Katie"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca", "Bex"),
    "Susan": ("Sue", "Susie", "Suzy"),
    "Suzanne": ("Sue", "Suzy"),
    "Patricia": ("Pat", "Patty", "Trish", "Tricia"),
    "Deborah": ("Debbie", "Deb"),
    "Debra": ("Debbie", "Deb"),
    "Victoria": ("Vicky", "Tori", "Vic"),
    "Samantha": ("Sam", "Sammy"),
    "Alexandra": ("Alex", "Lexi", "Sandra", "Sascha"),
    "Christine": ("Chris", "Chrissie", "Tina", "Christl"),
    "Caroline": ("Carrie", "Caro", "Lina"),
    "Nicola": ("Nicky", "Nic"),
    "Jacqueline": ("Jackie", "Jacqui"),
    "Joanne": ("Jo",),
    "Joanna": ("Jo",),
    "Josephine": ("Jo", "Josie", "Fien"),
    "Pamela": ("Pam",),
    "Barbara": ("Babs", "Barb", "Bärbel"),
    "Abigail": ("Abby", "Abbie", "Gail"),
    "Stephanie": ("Steph", "Steffi"),
    "Amanda": ("Mandy", "Manda"),
    "Angela": ("Angie",),
    "Gillian": ("Gill", "Jill"),
    "Valerie": ("Val",),
    "Dorothy": ("Dot", "Dottie", "Dolly"),
    "Frances": ("Fran", "Frankie"),
    "Francesca": ("Fran", "Frankie"),
    "Eleanor": ("Ellie", "Nell", "Nora"),
    "Charlotte": ("Charlie", "Lottie", "Lotte"),
    "Natalie": ("Nat",),
    "Natasha": ("Tash", "Tasha"),
    "Melanie": ("Mel",),
    "Melissa": ("Mel", "Missy"),
    "Georgina": ("Georgie", "Gina"),
    "Georgia": ("Georgie",),
    "Rosemary": ("Rosie", "Rose"),
    "Beverley": ("Bev",),
    "Kimberley": ("Kim",),
    "Teresa": ("Tess", "Tessa", "Terri"),
    "Judith": ("Judy", "Jude"),
    "Harriet": ("Hattie",),
    "Emily": ("Em", "Emmy"),
    "Emma": ("Em",),
    "Amelia": ("Millie", "Amy"),
    "Danielle": ("Dani",),
    "Mary": ("Molly", "Polly"),
    "Sarah": ("Sally", "Sadie"),
    "Sandra": ("Sandy",),
    "Alison": ("Ali",),
    "Jessica": ("Jess", "Jessie"),
    "Louise": ("Lou", "Lulu"),
    "Bethany": ("Beth",),
    # German (DE)
    "Johannes": ("Hans", "Jan", "Hannes", "Joop", "Jo"),
    "Johann": ("Hans", "Hannes"),
    "Friedrich": ("Fritz", "Friedel"),
    "Wilhelm": ("Willi", "Willy"),
    "Heinrich": ("Heinz", "Heini", "Hein"),
    "Wolfgang": ("Wolf", "Wolle"),
    "Christoph": ("Chris",),
    "Matthias": ("Matze", "Thijs"),
    "Mathias": ("Matze",),
    "Maximilian": ("Max", "Maxi"),
    "Sebastian": ("Basti", "Seb"),
    "Tobias": ("Tobi", "Toby"),
    "Andreas": ("Andi", "Andy"),
    "Bernhard": ("Bernd", "Benno"),
    "Gerhard": ("Gerd",),
    "Joachim": ("Achim", "Jochen", "Jo"),
    "Rudolf": ("Rudi", "Rolf"),
    "Ludwig": ("Lutz",),
    "Konrad": ("Konni",),
    "Nikolaus": ("Klaus", "Niko", "Nick"),
    "Niklas": ("Nick",),
    "Benedikt": ("Ben", "Benni"),
    "Dominik": ("Domi",),
    "Florian": ("Flo",),
    "Fabian": ("Fabi",),
    "Georg": ("Schorsch",),
    "Josef": ("Sepp", "Jupp", "Joschi"),
    "Karl": ("Kalle",),
    "Ulrich": ("Uli", "Ulli"),
    "Reinhard": ("Reini",),
    "Reinhold": ("Reini",),
    "Dietrich": ("Dieter",),
    "Dieter": ("Didi",),
    "Manfred": ("Manni", "Fred"),
    "Siegfried": ("Siggi",),
    "Emanuel": ("Manu", "Manni"),
    "Manuel": ("Manu",),
    "Theodor": ("Theo", "Teddy"),
    "Leopold": ("Poldi", "Leo"),
    "Leonhard": ("Leo",),
    "Lorenz": ("Lenz",),
    "Raphael": ("Raffi",),
    "Rafael": ("Rafa", "Raffi"),
    "Waldemar": ("Waldi",),
    "Alfred": ("Alf", "Fred"),
    "Abraham": ("Bram", "Abe"),
    "Katharina": ("Kathi", "Katja", "Käthe", "Kati"),
    "Elisabeth": ("Lisa", "Liesel", "Elli", "Els", "Lies", "Betty", "Sissi", "Bep"),
    "Margarete": ("Grete", "Gretel", "Gretchen", "Marga"),
    "Margarethe": ("Grete", "Gretel", "Gretchen", "Marga"),
    "Johanna": ("Hanna", "Hanne", "Jo", "Joke", "Hanneke"),
    "Susanne": ("Susi", "Sanne"),
    "Gabriele": ("Gabi", "Gaby"),
    "Christina": ("Tina", "Chris"),
    "Christiane": ("Christl", "Chris"),
    "Franziska": ("Franzi", "Fanny"),
    "Stefanie": ("Steffi",),
    "Angelika": ("Angie", "Geli"),
    "Cornelia": ("Conny", "Nele", "Corrie", "Nel"),
    "Dorothea": ("Doro", "Thea", "Dora"),
    "Ursula": ("Uschi", "Ulla", "Ursel"),
    "Theresa": ("Resi", "Tessa"),
    "Theresia": ("Resi",),
    "Therese": ("Resi",),
    "Veronika": ("Vroni", "Vera"),
    "Magdalena": ("Lena", "Leni", "Magda"),
    "Helene": ("Leni", "Lene"),
    "Friederike": ("Rike", "Frieda"),
    "Hildegard": ("Hilde", "Hildi"),
    "Rosemarie": ("Rosi",),
    "Sabine": ("Bine",),
    "Daniela": ("Dani",),
    "Michaela": ("Micha", "Michi"),
    "Elfriede": ("Elfi", "Friedl"),
    "Gertrud": ("Trude", "Trudi", "Gerti"),
    "Waltraud": ("Traudl", "Walli"),
    "Roswitha": ("Rosi",),
    "Brigitte": ("Gitte", "Gitta"),
    "Birgit": ("Biggi",),
    "Wilhelmine": ("Minna", "Mina", "Wilma"),
    "Henriette": ("Jette", "Henny", "Etta"),
    "Antonia": ("Toni",),
    "Isabella": ("Bella", "Isa", "Izzy"),
    "Julia": ("Jule", "Jules"),
    "Mathilde": ("Tilly", "Tilda", "Maud"),
    "Cäcilia": ("Cilli", "Cilly"),
    "Adelheid": ("Heidi",),
    "Walburga": ("Walli", "Burgi"),
    # French (FR)
    "Frédéric": ("Fred", "Fredo"),
    "Nicolas": ("Nico",),
    "Alexandre": ("Alex",),
    "Christophe": ("Chris",),
    "Sébastien": ("Seb", "Bastien"),
    "Stéphane": ("Steph",),
    "Emmanuel": ("Manu",),
    "Jacques": ("Jacky", "Jacquot"),
    "Philippe": ("Phil", "Philou"),
    "Matthieu": ("Matt",),
    "Gérard": ("Gégé",),
    "Théodore": ("Théo",),
    "Théophile": ("Théo",),
    "Timothée": ("Tim",),
    "Grégoire": ("Greg",),
    "Pierre": ("Pierrot",),
    "Isabelle": ("Isa",),
    "Nathalie": ("Nath", "Nat"),
    "Véronique": ("Véro",),
    "Stéphanie": ("Steph", "Fanny"),
    "Élisabeth": ("Babette", "Lisette", "Lisa"),
    "Frédérique": ("Fred",),
    "Marguerite": ("Margot", "Maggie", "Guite"),
    "Joséphine": ("Jo", "Josie", "Fifi"),
    "Valérie": ("Val",),
    "Emmanuelle": ("Manue", "Manu"),
    "Clémence": ("Clem",),
    "Antoinette": ("Toinette",),
    "Jeanne": ("Jeannette",),
    "Madeleine": ("Mado", "Maddie"),
    "Geneviève": ("Ginette",),
    # Dutch (NL)
    "Cornelis": ("Kees", "Cor"),
    "Hendrik": ("Henk", "Rik", "Hein"),
    "Pieter": ("Piet",),
    "Willem": ("Wim", "Pim"),
    "Gerrit": ("Gert",),
    "Marinus": ("Rinus", "Rien"),
    "Bastiaan": ("Bas",),
    "Sebastiaan": ("Bas", "Sebas"),
    "Maarten": ("Mart",),
    "Laurens": ("Lau",),
    "Matthijs": ("Thijs",),
    "Daniël": ("Daan",),
    "Stefan": ("Stef",),
    "Lucas": ("Luuk",),
    "Julius": ("Jules",),
    "Catharina": ("Cato", "Rina", "Toos", "Kaat", "Kathi"),
    "Maria": ("Mia", "Ria", "Mieke", "Marieke"),
    "Helena": ("Lena", "Leni", "Lenie"),
    "Anna": ("Annie", "Anneke", "Anke", "Anja"),
    "Anne": ("Annie",),
    "Adriana": ("Adrie", "Ria"),
}


# --------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------

# Each legal form: (canonical, variant, ...) -- the spellings source systems actually hold.
# Ordered most common first (by share of registered companies, rounded).
LEGAL_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "GB": (
        ("Ltd", "Limited", "Ltd.", "LTD"),
        ("LLP", "L.L.P.", "Limited Liability Partnership"),
        ("PLC", "Plc", "p.l.c.", "Public Limited Company"),
    ),
    "DE": (
        ("GmbH", "Gesellschaft mit beschränkter Haftung", "Ges.m.b.H.", "GMBH", "G.m.b.H."),
        ("GmbH & Co. KG", "GmbH & Co KG", "GmbH u. Co. KG", "GmbH + Co. KG"),
        ("UG (haftungsbeschränkt)", "UG", "UG (haftungsbeschraenkt)", "UG (hb)"),
        ("e.K.", "e. K.", "eK", "e.Kfm."),
        ("GbR", "Gesellschaft bürgerlichen Rechts", "G.b.R."),
        ("KG", "Kommanditgesellschaft"),
        ("AG", "Aktiengesellschaft"),
        ("OHG", "oHG", "offene Handelsgesellschaft"),
    ),
    "FR": (
        ("SARL", "S.A.R.L.", "Sarl", "Société à responsabilité limitée"),
        ("SAS", "S.A.S.", "Sas", "Société par actions simplifiée"),
        ("SASU", "S.A.S.U.", "Sasu"),
        ("EURL", "E.U.R.L.", "Eurl"),
        ("SCI", "S.C.I.", "Société civile immobilière"),
        ("SA", "S.A.", "Société Anonyme", "Société anonyme"),
        ("SNC", "S.N.C.", "Société en nom collectif"),
    ),
    "NL": (
        ("B.V.", "BV", "Besloten Vennootschap", "B.V", "bv"),
        ("V.O.F.", "VOF", "vof", "Vennootschap onder firma"),
        ("N.V.", "NV", "Naamloze Vennootschap"),
        ("C.V.", "CV", "Commanditaire Vennootschap"),
    ),
}

LEGAL_FORM_WEIGHTS: dict[str, tuple[float, ...]] = {
    "GB": (0.90, 0.06, 0.04),
    "DE": (0.55, 0.12, 0.08, 0.08, 0.07, 0.04, 0.03, 0.03),
    "FR": (0.30, 0.28, 0.14, 0.10, 0.10, 0.05, 0.03),
    "NL": (0.78, 0.14, 0.04, 0.04),
}

# Trade words that go into a company name ("Harper Plumbing Ltd", "Bäckerei Schulz GmbH").
# Kept disjoint from LOOKALIKE_QUALIFIERS: a qualifier must be what tells two companies apart.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "GB": (
        "Logistics", "Consulting", "Engineering", "Bakery", "Plumbing", "Construction",
        "Builders", "Electrical", "Roofing", "Joinery", "Carpentry", "Landscaping", "Cleaning",
        "Catering", "Removals", "Haulage", "Transport", "Motors", "Printing", "Design",
        "Marketing", "Media", "Software", "Accountancy", "Solicitors", "Estates", "Lettings",
        "Interiors", "Flooring", "Glazing", "Scaffolding", "Plastering", "Decorating", "Heating",
        "Fabrications", "Welding", "Pharmacy", "Dental", "Veterinary", "Opticians", "Florists",
        "Butchers", "Brewery", "Dairy", "Nurseries", "Recruitment", "Security", "Training",
        "Travel", "Insurance", "Healthcare", "Textiles", "Packaging", "Plastics", "Foods",
        "Tyres", "Couriers", "Storage",
    ),
    "DE": (
        "Logistik", "Bau", "Elektrotechnik", "Bäckerei", "Metzgerei", "Sanitär", "Heizungsbau",
        "Dachdeckerei", "Zimmerei", "Schreinerei", "Tischlerei", "Malerbetrieb", "Fliesen",
        "Gartenbau", "Gebäudereinigung", "Transporte", "Spedition", "Autohaus", "Kfz-Werkstatt",
        "Druckerei", "Werbeagentur", "Software", "Steuerberatung", "Rechtsanwälte",
        "Hausverwaltung", "Innenausbau", "Fensterbau", "Gerüstbau", "Stuckateur", "Metallbau",
        "Maschinenbau", "Apotheke", "Zahntechnik", "Tierarztpraxis", "Optik", "Brauerei",
        "Landwirtschaft", "Molkerei", "Baumschule", "Sicherheitsdienst", "Reisebüro",
        "Versicherungen", "Pflegedienst", "Textil", "Verpackung", "Kunststofftechnik",
        "Lebensmittel", "Energietechnik", "Solartechnik", "Umzüge", "Gastronomie",
    ),
    "FR": (
        "Transports", "Conseil", "Boulangerie", "Boucherie", "Pâtisserie", "Plomberie",
        "Électricité", "Bâtiment", "Construction", "Maçonnerie", "Menuiserie", "Charpente",
        "Couverture", "Peinture", "Carrelage", "Paysage", "Nettoyage", "Restauration",
        "Traiteur", "Déménagements", "Logistique", "Garage", "Automobiles", "Imprimerie",
        "Communication", "Informatique", "Comptabilité", "Avocats", "Immobilier", "Agencement",
        "Vitrerie", "Serrurerie", "Chauffage", "Climatisation", "Métallerie", "Mécanique",
        "Pharmacie", "Optique", "Fleuriste", "Brasserie", "Fromagerie", "Pépinières", "Intérim",
        "Sécurité", "Formation", "Voyages", "Assurances", "Santé", "Textile", "Emballages",
        "Alimentation", "Énergie", "Isolation", "Rénovation", "Architecture", "Ingénierie",
    ),
    "NL": (
        "Logistiek", "Bouw", "Advies", "Bakkerij", "Slagerij", "Installatietechniek",
        "Elektrotechniek", "Dakdekkers", "Timmerwerken", "Schildersbedrijf", "Tegelwerken",
        "Hoveniers", "Groenvoorziening", "Schoonmaak", "Catering", "Verhuizingen", "Transport",
        "Autobedrijf", "Drukkerij", "Reclame", "Software", "ICT", "Administratie",
        "Accountants", "Advocaten", "Makelaardij", "Vastgoed", "Interieur", "Kozijnen",
        "Steigerbouw", "Stukadoors", "Metaalbewerking", "Machinebouw", "Apotheek",
        "Tandtechniek", "Dierenkliniek", "Optiek", "Bloemen", "Brouwerij", "Zuivel", "Kwekerij",
        "Uitzendbureau", "Beveiliging", "Opleidingen", "Reizen", "Verzekeringen", "Zorg",
        "Textiel", "Verpakkingen", "Kunststoffen", "Voeding", "Energie", "Klimaattechniek",
        "Isolatie", "Architecten", "Ingenieurs",
    ),
}  # fmt: skip

# Brandable single words usable in any country ("Northwind Logistics Ltd"). None is a given
# name in any locale, so a brand never reads as a person's name.
BRAND_WORDS: tuple[str, ...] = (
    "Northwind", "Bluepeak", "Silverline", "Oakridge", "Nordlicht", "Horizon", "Apex", "Summit",
    "Meridian", "Zenith", "Vertex", "Pinnacle", "Evergreen", "Greenfield", "Redwood",
    "Ironbridge", "Stonegate", "Brightwater", "Clearview", "Crestwood", "Eastgate", "Westbrook",
    "Highpoint", "Lakeside", "Seaview", "Skyline", "Sunrise", "Sunridge", "Starlight", "Polaris",
    "Atlas", "Titan", "Falcon", "Kestrel", "Osprey", "Heron", "Lynx", "Vector", "Quantum",
    "Nexus", "Vantage", "Keystone", "Cornerstone", "Bedrock", "Granite", "Cobalt", "Copper",
    "Indigo", "Crimson", "Sapphire", "Emerald", "Onyx", "Nordwind", "Nordstern", "Zeewind",
    "Mistral", "Sirocco", "Solara", "Lumina", "Luminex", "Optima", "Prisma", "Axiom", "Arcadia",
    "Avalon", "Verdant", "Terravista", "Aqualine", "Voltaris", "Kinetic", "Dynamo", "Momentum",
    "Catalyst", "Spectrum", "Fusion", "Infinity", "Paragon", "Sterling", "Sovereign", "Monarch",
    "Kingfisher", "Bluebell", "Thistle", "Bramble", "Blackthorn", "Oakleaf", "Maplewood",
    "Pinewood", "Cedarwood", "Birchwood", "Fernhill", "Foxglove", "Anchor", "Compass", "Beacon",
    "Lighthouse", "Waypoint", "Landmark", "Milestone", "Pathway", "Gateway", "Bridgeway",
    "Trident", "Triton", "Neptune", "Mercury", "Jupiter", "Nimbus", "Cirrus", "Stratus",
    "Glacier", "Fjord", "Tundra", "Boreal", "Polarstern", "Sunstone", "Moonstone", "Lodestar",
    "Northstar", "Goldcrest", "Silverbirch", "Blueridge", "Greenleaf", "Redstone", "Whitecliff",
    "Blackwater", "Springwell", "Clearwater", "Stillwater", "Rivermead", "Meadowbrook",
    "Hillcrest", "Ridgeway", "Alpenglanz", "Sonnenhof", "Lindenhof", "Blauwater", "Zonnestraal",
)  # fmt: skip

# Words that turn a company name into a different but look-alike company ("Northwind Ltd" vs
# "Northwind Holdings Ltd"): the hard negatives a matcher must keep apart.
LOOKALIKE_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "GB": (
        "Holdings",
        "Services",
        "International",
        "Group",
        "(Scotland)",
        "(Wales)",
        "Solutions",
        "Partners",
        "UK",
        "Trading",
        "Europe",
        "Management",
        "Properties",
        "North",
        "South",
    ),
    "DE": (
        "Holding",
        "Service",
        "International",
        "Nord",
        "Süd",
        "Ost",
        "West",
        "Gruppe",
        "Deutschland",
        "Europa",
        "Verwaltung",
        "Vertrieb",
        "Beteiligungen",
        "Management",
    ),
    "FR": (
        "Holding",
        "Services",
        "International",
        "Groupe",
        "Nord",
        "Sud",
        "Est",
        "Ouest",
        "France",
        "Europe",
        "Gestion",
        "Distribution",
        "Participations",
        "Île-de-France",
    ),
    "NL": (
        "Holding",
        "Services",
        "International",
        "Groep",
        "Noord",
        "Zuid",
        "Oost",
        "West",
        "Nederland",
        "Europa",
        "Beheer",
        "Participaties",
        "Benelux",
    ),
}

# Role mailbox names used in every one of the four countries.
ORG_EMAIL_LOCALS: tuple[str, ...] = (
    "info", "contact", "accounts", "office", "billing", "hello", "admin", "sales", "enquiries",
    "invoices", "finance", "mail", "reception",
)  # fmt: skip

ORG_EMAIL_TLD: dict[str, str] = {"GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl"}


# --------------------------------------------------------------------------------------------
# Persons: e-mail, salutations, suffixes
# --------------------------------------------------------------------------------------------

# (domain, share) of private e-mail addresses per country, rounded to whole percent so that the
# shares are exact-looking and sum to 1. Rough market shares: national ISPs and the German
# freemail pair (web.de, GMX) are what makes the countries look different.
EMAIL_PROVIDERS: dict[str, tuple[tuple[str, float], ...]] = {
    "GB": (
        ("gmail.com", 0.30),
        ("hotmail.co.uk", 0.15),
        ("outlook.com", 0.10),
        ("yahoo.co.uk", 0.10),
        ("btinternet.com", 0.08),
        ("icloud.com", 0.08),
        ("hotmail.com", 0.07),
        ("sky.com", 0.05),
        ("live.co.uk", 0.04),
        ("aol.com", 0.03),
    ),
    "DE": (
        ("gmx.de", 0.22),
        ("web.de", 0.22),
        ("gmail.com", 0.20),
        ("t-online.de", 0.14),
        ("gmx.net", 0.08),
        ("yahoo.de", 0.04),
        ("outlook.de", 0.04),
        ("hotmail.de", 0.03),
        ("freenet.de", 0.02),
        ("icloud.com", 0.01),
    ),
    "FR": (
        ("gmail.com", 0.30),
        ("orange.fr", 0.18),
        ("hotmail.fr", 0.12),
        ("free.fr", 0.10),
        ("laposte.net", 0.08),
        ("sfr.fr", 0.07),
        ("yahoo.fr", 0.06),
        ("wanadoo.fr", 0.05),
        ("outlook.fr", 0.02),
        ("icloud.com", 0.02),
    ),
    "NL": (
        ("gmail.com", 0.30),
        ("hotmail.com", 0.15),
        ("ziggo.nl", 0.12),
        ("kpnmail.nl", 0.08),
        ("hotmail.nl", 0.08),
        ("outlook.com", 0.08),
        ("live.nl", 0.06),
        ("planet.nl", 0.04),
        ("home.nl", 0.04),
        ("icloud.com", 0.03),
        ("xs4all.nl", 0.02),
    ),
}

# Salutations as a CRM stores them. "Mlle" is officially retired in France but legacy systems
# still hold it; "Mw." is the other common Dutch abbreviation of "mevrouw".
SALUTATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "GB": {"F": ("Ms", "Mrs", "Miss"), "M": ("Mr",)},
    "DE": {"F": ("Frau",), "M": ("Herr",)},
    "FR": {"F": ("Mme", "Mlle"), "M": ("M.",)},
    "NL": {"F": ("Mevr.", "Mw."), "M": ("Dhr.",)},
}

GENERATION_SUFFIXES: dict[str, tuple[str, ...]] = {
    "junior": ("Jr", "Jr.", "Junior", "II"),
    "senior": ("Sr", "Sr.", "Senior"),
}


# --------------------------------------------------------------------------------------------
# Data-quality junk, account labels, products
# --------------------------------------------------------------------------------------------

# Placeholders that real systems hold instead of a value, per field kind. Birth dates are ISO
# strings; the generator renders them in each system's date format.
JUNK: dict[str, tuple[str, ...]] = {
    "text": ("n/a", "N/A", "-", "unknown", "UNKNOWN", "none", "?", "xxx"),
    "email": (
        "n/a",
        "noemail@noemail.com",
        "none@none.com",
        "test@test.com",
        "x@x.com",
        "no@email.com",
    ),
    "phone": ("0000000000", "n/a", "000000", "1234567890", "9999999999"),
    "postcode": ("00000", "n/a", "XXXXX", "0000"),
    "birth_date": ("1900-01-01", "1901-01-01", "1800-01-01"),
}

# Account names are English in every system.
ACCOUNT_LABELS: dict[str, tuple[str, ...]] = {
    "person": (
        "Home", "Main", "Holiday home", "Household", "Flat", "Garage", "Second home", "Cottage",
        "Caravan", "Annex", "Rental property",
    ),
    "organization": (
        "Head office", "Warehouse", "Branch", "Depot", "Shop", "Factory", "Site 2", "Office",
        "Workshop", "Yard", "Showroom", "Distribution centre",
    ),
}  # fmt: skip

# An energy and telecom supplier's catalogue: (code, description, short description,
# monthly amount min, monthly amount max, term options in months; 0 = open-ended).
PRODUCTS: tuple[tuple[str, str, str, float, float, tuple[int, ...]], ...] = (
    ("EL-FIX-12", "Electricity Fixed 12 months", "ELEC FIX 12M", 40.0, 180.0, (12,)),
    ("EL-FIX-24", "Electricity Fixed 24 months", "ELEC FIX 24M", 40.0, 170.0, (24,)),
    ("EL-VAR", "Electricity Variable", "ELEC VAR", 35.0, 200.0, (0,)),
    ("EL-GREEN-12", "Green Electricity 12 months", "GREEN ELEC 12M", 45.0, 190.0, (12,)),
    ("EL-EV", "Electricity EV Night Tariff", "ELEC EV NIGHT", 50.0, 250.0, (0, 12)),
    ("GAS-FIX-12", "Gas Fixed 12 months", "GAS FIX 12M", 30.0, 150.0, (12,)),
    ("GAS-FIX-24", "Gas Fixed 24 months", "GAS FIX 24M", 30.0, 140.0, (24,)),
    ("GAS-VAR", "Gas Variable", "GAS VAR", 30.0, 150.0, (0,)),
    ("DF-FIX-12", "Dual Fuel Fixed 12 months", "DUAL FIX 12M", 70.0, 300.0, (12,)),
    ("BB-100", "Broadband 100", "BB 100MB", 25.0, 45.0, (12, 24)),
    ("BB-500", "Broadband 500", "BB 500MB", 35.0, 60.0, (12, 24)),
    ("BB-1000", "Fibre Broadband 1 Gbit", "BB 1GB", 45.0, 80.0, (12, 24)),
    ("MOB-SIM-5", "Mobile SIM Only 5 GB", "MOB SIM 5GB", 8.0, 15.0, (0, 12)),
    ("MOB-SIM-UNL", "Mobile SIM Only Unlimited", "MOB SIM UNL", 18.0, 35.0, (12, 24)),
    ("TV-BASIC", "TV Basic Package", "TV BASIC", 10.0, 25.0, (0, 12)),
    ("HC-BOILER", "Boiler Cover", "BOILER COVER", 8.0, 25.0, (12,)),
    ("EL-BIZ-12", "Business Electricity 12 months", "BIZ ELEC 12M", 150.0, 3000.0, (12,)),
    ("EL-BIZ-36", "Business Electricity 36 months", "BIZ ELEC 36M", 300.0, 5000.0, (36,)),
    ("GAS-BIZ-12", "Business Gas 12 months", "BIZ GAS 12M", 120.0, 2500.0, (12,)),
    ("GAS-BIZ-36", "Business Gas 36 months", "BIZ GAS 36M", 250.0, 4000.0, (36,)),
    ("BB-BIZ-1000", "Business Fibre 1 Gbit", "BIZ FIBRE 1GB", 60.0, 250.0, (24, 36)),
    ("MOB-BIZ-FLEET", "Business Mobile Fleet", "BIZ MOB FLEET", 100.0, 2000.0, (24, 36)),
)
