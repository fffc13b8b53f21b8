from rest_framework import serializers


class TokenInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutSerializer(serializers.Serializer):
    token = serializers.CharField()
