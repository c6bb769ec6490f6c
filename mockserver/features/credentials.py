"""Key pairs added at run time: `POST /__admin/credentials/{vendor}` and `GET` of the same path.

For vendors whose clients sign requests with a key pair (the provider has a `key_table`): a
second, third, ... account without a restart, which isolation checks need (one account must
never see another's tasks). Bearer-key vendors need nothing of the kind: every well-formed key
is already its own account, so they answer 400 saying so.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.keypairs import KeyPairError, KeyTable
from ..emulator import Emulator
from .admin import admin_error, read_json_object


def credential_routes(emulator: Emulator) -> list[BaseRoute]:
    def table_of(request: Request) -> KeyTable | JSONResponse:
        vendor = request.path_params["vendor"]
        provider = emulator.providers.get(vendor)
        if provider is None:
            return admin_error(f"no vendor {vendor!r}; known: {', '.join(emulator.providers)}",
                               404)
        if provider.key_table is None:
            return admin_error(f"{vendor} takes bearer keys: every well-formed key is its own "
                               "account already, there is no key pair to add")
        return provider.key_table

    async def add(request: Request) -> Response:
        table = table_of(request)
        if isinstance(table, Response):
            return table
        doc = await read_json_object(request)
        if isinstance(doc, Response):
            return doc
        key_id, secret = doc.get("key_id"), doc.get("secret")
        if not all(isinstance(v, (str, type(None))) for v in (key_id, secret)):
            return admin_error("'key_id' and 'secret' must be strings")
        try:
            key_id, secret = table.add(key_id, secret)
        except KeyPairError as error:
            return admin_error(str(error))
        return JSONResponse({"vendor": request.path_params["vendor"], "key_id": key_id,
                             "secret": secret}, 201)

    async def listing(request: Request) -> Response:
        table = table_of(request)
        if isinstance(table, Response):
            return table
        return JSONResponse({"vendor": request.path_params["vendor"], "key_ids": list(table),
                             "added": table.added()})

    return [Route("/__admin/credentials/{vendor}", add, methods=["POST"]),
            Route("/__admin/credentials/{vendor}", listing, methods=["GET"])]
