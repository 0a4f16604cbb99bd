"""What the plugin does through Saleor's models, done through the tenant's GraphQL API with the app's token: the
voucher port (live coupons, points redeemed, first-order coupons: live_room/coupons.VoucherPort) and the
catalogue (whether a product exists, the slugs to pick featured products from). The same behaviour as
saleor/vouchers.py and saleor/catalog.py, which tests/saleor/test_app_ports_contract.py holds them to:

- a live coupon is one ENTIRE_ORDER voucher listed in the live's channel, not valid before the live starts
  (start date far in the future), with one code per distributor code (and, unlike the plugin's, one more
  code of 32 random characters given to no one: Saleor's API makes no voucher without a code);
- a reward for one person is a single-use voucher with one code, or an active gift card assigned to the
  person's account; both carry the grant's key in their metadata (`livedist_grant`), so asking again with the
  same key returns the one made before.

Every refusal Saleor answers with (a mutation's `errors`, a GraphQL error, a missing permission) is raised as a
ServiceError naming what was asked; an instance that does not answer raises SaleorUnreachable."""
from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from ..catalogue import CATALOGUE_PICK
from ..db import schemas
from ..exceptions import ServiceError
from ..identity import user_pk
from ..live_room.coupons import CODE_ALPHABET, Granted, StoreGrant
from ..models import LiveCoupon
from . import saleor_api

GRANT_KEY = "livedist_grant"
NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)  # the start date of a coupon whose live has not started
KIND = {LiveCoupon.FIXED: "FIXED", LiveCoupon.PERCENT: "PERCENTAGE"}
HIDDEN_CODE_LENGTH = 32  # a live coupon's first code, which no one is given (32**32 codes to guess from)

CHANNEL = "query($slug: String!) { channel(slug: $slug) { id slug currencyCode } }"
VOUCHER_CREATE = """mutation($input: VoucherInput!) {
  voucherCreate(input: $input) { voucher { id codes(first: 1) { edges { node { code } } } } errors { field code message } } }"""
VOUCHER_UPDATE = """mutation($id: ID!, $input: VoucherInput!) {
  voucherUpdate(id: $id, input: $input) { voucher { id } errors { field code message } } }"""
VOUCHER_LISTING = """mutation($id: ID!, $input: VoucherChannelListingInput!) {
  voucherChannelListingUpdate(id: $id, input: $input) { voucher { id } errors { field code message } } }"""
UPDATE_METADATA = """mutation($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { item { metadata { key } } errors { field code message } } }"""
UPDATE_PRIVATE_METADATA = """mutation($id: ID!, $input: [MetadataInput!]!) {
  updatePrivateMetadata(id: $id, input: $input) { item { metadata { key } } errors { field code message } } }"""
GRANTED_VOUCHER = """query($key: String!) {
  vouchers(first: 1, filter: {metadata: [{key: "livedist_grant", value: $key}]}) {
    edges { node { id codes(first: 1) { edges { node { code } } } } } } }"""
GIFT_CARD_CREATE = """mutation($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) { giftCard { id code } errors { field code message } } }"""
GRANTED_GIFT_CARD = """query($key: String!) {
  giftCards(first: 1, filter: {metadata: [{key: "livedist_grant", value: $key}]}) { edges { node { id code } } } }"""
PRODUCT = "query($slug: String!) { product(slug: $slug) { id } }"
PRODUCTS = """query($after: String) {
  products(first: 100, after: $after, sortBy: {field: NAME, direction: ASC}) {
    edges { node { slug } } pageInfo { hasNextPage endCursor } } }"""


def gid(kind: str, pk: object) -> str:
    """Saleor's global id of an object (graphene's: base64 of "Type:pk")."""
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


class SaleorApi:
    """One tenant's GraphQL API, as the app."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url, self.token = api_url, token

    @classmethod
    def of_current_tenant(cls) -> SaleorApi:
        """The API of the tenant whose schema is in use (App mode's requests and tasks run in one)."""
        from .tenants import token_of

        schema = schemas.current()
        with connection.cursor() as cursor:  # the tenants' table is in the public schema, off the search_path
            cursor.execute("SELECT api_url, sealed_token, app_id, schema, id FROM public.livedist_app_tenant "
                           "WHERE schema = %s", [schema])
            row = cursor.fetchone()
        if row is None:
            raise ServiceError(None, "NO_STORE", _("no Saleor store is in use here (App mode runs each store's "
                                                   "work in its own schema)"))
        from .models import Tenant

        tenant = Tenant(api_url=row[0], sealed_token=row[1], app_id=row[2], schema=row[3], id=row[4])
        return cls(tenant.api_url, token_of(tenant))

    def data(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        document = saleor_api.graphql(self.api_url, self.token, query, variables)
        if document.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in document["errors"] if isinstance(e, dict))
            raise ServiceError(None, "STORE_REFUSED", _("the store refused to %(what)s: %(why)s") % {
                "what": what, "why": messages})
        data = document.get("data")
        if not isinstance(data, dict):
            raise saleor_api.SaleorUnreachable(f"{self.api_url} answered without data")
        return data

    def mutate(self, query: str, variables: dict[str, Any], field: str, what: str) -> dict[str, Any]:
        result = self.data(query, variables, what).get(field) or {}
        errors = result.get("errors") or []
        if errors:
            messages = "; ".join(f"{e.get('field') or ''} {e.get('message') or e.get('code')}".strip() for e in errors)
            raise ServiceError(None, "STORE_REFUSED", _("the store refused to %(what)s: %(why)s") % {
                "what": what, "why": messages})
        return result


class GraphQLVouchers:
    """The voucher port on a Saleor reached through its API (saleor/vouchers.py does the same on its models)."""

    def __init__(self, api: SaleorApi | None = None) -> None:
        self.api = api or SaleorApi.of_current_tenant()

    def _channel(self, slug: str, currency: str | None, field: str, unknown: str) -> dict[str, Any]:
        listed = self.api.data(CHANNEL, {"slug": slug}, _("read a channel")).get("channel") if slug else None
        if not listed:
            raise ServiceError(field, "INVALID", unknown % {"channel": slug})
        if currency is not None and listed["currencyCode"] != currency:
            raise ServiceError("currency", "INVALID", _("channel %(channel)s sells in %(sells)s, not %(currency)s")
                               % {"channel": slug, "sells": listed["currencyCode"], "currency": currency})
        return listed

    def _list(self, voucher: str, channel: dict[str, Any], value: Decimal, min_spent: Decimal | None) -> None:
        listing: dict[str, Any] = {"channelId": channel["id"], "discountValue": str(value)}
        if min_spent is not None:
            listing["minAmountSpent"] = str(min_spent)
        self.api.mutate(VOUCHER_LISTING, {"id": voucher, "input": {"addChannels": [listing]}},
                        "voucherChannelListingUpdate", _("list a voucher in a channel"))

    def _metadata(self, item: str, values: dict[str, str], private: bool = False) -> None:
        self.api.mutate(UPDATE_PRIVATE_METADATA if private else UPDATE_METADATA,
                        {"id": item, "input": [{"key": k, "value": v} for k, v in values.items()]},
                        "updatePrivateMetadata" if private else "updateMetadata", _("label a voucher"))

    def create(self, coupon: LiveCoupon, channel: str) -> str:
        listed = self._channel(channel, coupon.currency if coupon.kind == LiveCoupon.FIXED else None, "live", _(
            "the live's channel %(channel)r is not a Saleor channel: set the live's channel to the slug of the "
            "channel it sells in"))
        voucher = self.api.mutate(VOUCHER_CREATE, {"input": {
            "type": "ENTIRE_ORDER", "name": f"{coupon.title} (live {coupon.live_id} only)",
            "discountValueType": KIND[coupon.kind], "startDate": NOT_YET.isoformat(), "endDate": None,
            # Saleor's API makes no voucher without a code (its models do): one nobody is given, too long to guess.
            "addCodes": [_code(HIDDEN_CODE_LENGTH)]}},
            "voucherCreate", _("create a voucher"))["voucher"]["id"]
        self._metadata(voucher, {"livedist_coupon": coupon.id, "livedist_live": coupon.live_id})
        self._list(voucher, listed, coupon.value, coupon.min_spent)
        return voucher

    def add_codes(self, coupon: LiveCoupon, codes: list[str]) -> None:
        self.api.mutate(VOUCHER_UPDATE, {"id": coupon.voucher, "input": {"addCodes": codes}}, "voucherUpdate",
                        _("add codes to a voucher"))

    def set_window(self, coupon: LiveCoupon, start: datetime | None, end: datetime | None) -> None:
        self.api.mutate(VOUCHER_UPDATE, {"id": coupon.voucher, "input": {
            "startDate": (start or NOT_YET).isoformat(), "endDate": end.isoformat() if end else None}},
            "voucherUpdate", _("change a voucher's dates"))

    def grant_voucher(self, grant: StoreGrant) -> Granted:
        found = self.api.data(GRANTED_VOUCHER, {"key": grant.key}, _("find a voucher"))["vouchers"]["edges"]
        if found:
            node = found[0]["node"]
            return Granted(node["id"], node["codes"]["edges"][0]["node"]["code"])
        listed = self._channel(grant.channel, None if grant.percent else grant.currency, "channel", _(
            "%(channel)r is not a Saleor channel: give the slug of the channel the voucher is for"))
        created = self.api.mutate(VOUCHER_CREATE, {"input": {
            "type": "ENTIRE_ORDER", "name": grant.title, "startDate": datetime.now(UTC).isoformat(),
            "endDate": grant.valid_until.isoformat() if grant.valid_until else None, "usageLimit": 1,
            "singleUse": True, "discountValueType": "PERCENTAGE" if grant.percent else "FIXED",
            "addCodes": [_code()]}}, "voucherCreate", _("create a voucher"))["voucher"]
        # Labelled at once: the label is how a second request with this key finds it.
        self._metadata(created["id"], {GRANT_KEY: grant.key})
        self._metadata(created["id"], {"livedist_person": grant.person}, private=True)
        self._list(created["id"], listed, grant.value, grant.min_spent)
        return Granted(created["id"], created["codes"]["edges"][0]["node"]["code"])

    def grant_gift_card(self, grant: StoreGrant) -> Granted:
        found = self.api.data(GRANTED_GIFT_CARD, {"key": grant.key}, _("find a gift card"))["giftCards"]["edges"]
        if found:
            return Granted(found[0]["node"]["id"], found[0]["node"]["code"])
        card_input: dict[str, Any] = {
            "balance": {"amount": str(grant.value), "currency": grant.currency}, "isActive": True,
            "metadata": [{"key": GRANT_KEY, "value": grant.key}],
            "expiryDate": grant.valid_until.date().isoformat() if grant.valid_until else None}
        pk = user_pk(grant.person)
        if pk and pk.isdigit():
            card_input["assignedTo"] = gid("User", pk)
        card = self.api.mutate(GIFT_CARD_CREATE, {"input": card_input}, "giftCardCreate",
                               _("create a gift card"))["giftCard"]
        return Granted(card["id"], card["code"])


def _code(length: int = 12) -> str:
    """A voucher code of the live coupons' alphabet (codes are read aloud on a live)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def product_exists(slug: str, api: SaleorApi | None = None) -> bool:
    api = api or SaleorApi.of_current_tenant()
    return bool(api.data(PRODUCT, {"slug": slug}, _("read the catalogue")).get("product"))


def product_slugs(limit: int = CATALOGUE_PICK, api: SaleorApi | None = None) -> list[str]:
    api = api or SaleorApi.of_current_tenant()
    slugs: list[str] = []
    after = None
    while len(slugs) < limit:
        page = api.data(PRODUCTS, {"after": after}, _("read the catalogue"))["products"]
        slugs += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return slugs[:limit]


class GraphQLCatalogue:
    """The catalogue port (saleor_livedist/catalogue.py) on a Saleor reached through its API."""

    def __init__(self, api: SaleorApi | None = None) -> None:
        self.api = api or SaleorApi.of_current_tenant()

    def product_exists(self, slug: str) -> bool:
        return product_exists(slug, self.api)

    def product_slugs(self, limit: int = CATALOGUE_PICK) -> list[str]:
        return product_slugs(limit, self.api)


def use_app_ports() -> None:
    """Live coupons and rewards are the tenant's Saleor vouchers and gift cards, and its catalogue is read
    through its API, from now on (App mode)."""
    from ..catalogue import use_catalogue
    from ..live_room.coupons import use_store_vouchers

    use_store_vouchers(GraphQLVouchers)
    use_catalogue(GraphQLCatalogue)
