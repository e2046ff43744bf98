export { AuthModule } from './auth.module';
export { AuthenticationGuard } from './authentication.guard';
export { IS_PUBLIC, Public } from './public.decorator';
