import { grantableToApiKeys, PERMISSION_KEYS, PERMISSIONS } from '@app/rbac';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated } from '../openapi/api-errors.decorator';
import { PermissionDto } from './dto/organization.dto';

@ApiTags('roles')
@Controller('permissions')
export class PermissionsController {
  @Get()
  @ApiOperation({ summary: 'The permission catalogue', description: 'Authenticated.' })
  @ApiOkResponse({ type: [PermissionDto] })
  @ApiAuthenticated()
  list(): PermissionDto[] {
    return PERMISSION_KEYS.map((key) => ({
      key,
      description: PERMISSIONS[key].description,
      scopes: [...PERMISSIONS[key].scopes],
      apiKeys: grantableToApiKeys(key),
    }));
  }
}
