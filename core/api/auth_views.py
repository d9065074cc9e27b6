"""API tokens for programs: obtained with a password, stored hashed, expiring, revocable."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.views import LogoutView
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.throttling import ResilientScopedRateThrottle
from core.auth import OwnTokenAuthentication, auth_token_issue

TokenResponse = inline_serializer(
    "TokenResponse",
    {"token": serializers.CharField(), "expiry": serializers.DateTimeField(allow_null=True)},
)


class TokenObtainView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token <token>`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "login"
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: TokenResponse, 400: OpenApiResponse(), 429: OpenApiResponse()},
    )
    def post(self, request):
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        instance, token = auth_token_issue(
            user=credentials.validated_data["user"], expiry=settings.TOKEN_TTL
        )
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_200_OK)


class TokenLogoutView(LogoutView):
    """Revoke the token this request is authenticated with."""

    authentication_classes = [OwnTokenAuthentication]

    @extend_schema(request=None, responses={204: None, 401: OpenApiResponse()})
    def post(self, request, format=None):
        return super().post(request, format)
