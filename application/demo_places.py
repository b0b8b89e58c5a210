"""Real cities for demo listings: spread over many countries, priced in local currency."""

from __future__ import annotations

from application.places import Place, Places

# (city, country, lat, lng, tz, currency), the shape `application.demo` uses.
DemoCity = tuple[str, str, float, float, str, str]

# Countries demo listings go to, in this order, round after round.
DEMO_COUNTRIES = (
    "US", "GB", "DE", "FR", "ES", "IT", "PT", "NL", "JP", "CA", "AU", "MX", "BR", "CH", "AT",
    "SE", "PL", "IE", "BE", "DK", "NO", "CZ", "GR", "NZ",
)  # fmt: skip

_EUROZONE = frozenset({
    "AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PT", "SI", "SK",
})  # fmt: skip
_CURRENCIES = {
    "US": "USD", "GB": "GBP", "JP": "JPY", "CA": "CAD", "AU": "AUD", "MX": "MXN", "BR": "BRL",
    "CH": "CHF", "SE": "SEK", "PL": "PLN", "DK": "DKK", "NO": "NOK", "CZ": "CZK", "NZ": "NZD",
} | dict.fromkeys(_EUROZONE, "EUR")  # fmt: skip

# Rough units of each currency per 100 euros, so demo prices look local (never real money).
_PER_100_EUR = {
    "EUR": 100, "USD": 110, "GBP": 85, "JPY": 16_000, "CAD": 150, "AUD": 165, "MXN": 1_900,
    "BRL": 600, "CHF": 95, "SEK": 1_150, "PLN": 430, "DKK": 746, "NOK": 1_170, "CZK": 2_500,
    "NZD": 180,
}  # fmt: skip
_ZERO_DECIMAL = frozenset({"JPY"})


def currency_for(country: str, timezone: str = "") -> str:
    """The country's currency where the table knows it; else EUR in Europe, USD elsewhere."""
    if country in _CURRENCIES:
        return _CURRENCIES[country]
    return "EUR" if timezone.startswith("Europe/") else "USD"


def local_amount(eur_cents: int, currency: str) -> int:
    """A demo price given in euro cents, in `currency`'s minor units, rounded to whole units
    (tens of yen). Currencies outside the table are taken at par."""
    scaled = eur_cents * _PER_100_EUR.get(currency, 100)  # in 1/10,000 of a unit
    if currency in _ZERO_DECIMAL:
        return (scaled + 50_000) // 100_000 * 10
    return (scaled + 5_000) // 10_000 * 100


def _demo_city(place: Place) -> DemoCity:
    currency = currency_for(place.country, place.timezone)
    return (place.name, place.country, place.lat, place.lng, place.timezone, currency)


def demo_cities(
    places: Places, n: int, countries: tuple[str, ...] = DEMO_COUNTRIES
) -> list[DemoCity]:
    """Up to `n` distinct real cities: the largest city of each country in turn, then the
    second largest of each, and so on; deterministic, so demo runs are repeatable."""
    pools = [places.largest(n, country=country) for country in countries]
    cities: list[DemoCity] = []
    for rank in range(max((len(pool) for pool in pools), default=0)):
        for pool in pools:
            if len(cities) == n:
                return cities
            if rank < len(pool):
                cities.append(_demo_city(pool[rank]))
    return cities
