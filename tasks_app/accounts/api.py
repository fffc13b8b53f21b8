from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tasks_app.accounts import serializers as accounts_serializers
from tasks_app.accounts import services
from tasks_app.common import serializers as common_serializers
from tasks_app.common.api import ERRORS, validated

# --- Authentication ---------------------------------------------------------------------------


class TokenApi(APIView):
    """Scripts exchange a username and password for a token (revoked by POST .../revoke/)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=accounts_serializers.TokenInSerializer,
        responses={
            200: accounts_serializers.TokenOutSerializer,
            400: common_serializers.ErrorSerializer,
            429: common_serializers.ErrorSerializer,
        },
    )
    def post(self, request):
        data = validated(accounts_serializers.TokenInSerializer, request.data)
        token = services.token_issue(
            username=data["username"], password=data["password"], request=request
        )
        return Response({"token": token.key})


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None, **ERRORS})
    def post(self, request):
        services.token_revoke(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
